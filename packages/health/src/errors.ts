import createError from '@fastify/error'

/** A `@corral/health` option has a value it cannot take. */
export const InvalidOptionError = createError(
  'CORRAL_HEALTH_INVALID_OPTION',
  'Invalid @corral/health option "%s": %s',
  500,
  TypeError
)

/** A check did not settle within its timeout. */
export const CheckTimeoutError = createError(
  'CORRAL_HEALTH_CHECK_TIMEOUT',
  'check timed out after %d ms',
  503
)

/** A threshold check (event loop, memory) is over its limit. */
export const ThresholdError = createError(
  'CORRAL_HEALTH_THRESHOLD',
  '%s',
  503
)
