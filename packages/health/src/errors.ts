import createError from '@fastify/error'
import { invalidOptionError } from '@corral/cluster-boot/options'

/** A `@corral/health` option has a value it cannot take: `@corral/health: option "<path>" must be <what> (got <value>)`. */
export const InvalidOptionError = invalidOptionError('CORRAL_HEALTH_INVALID_OPTION', '@corral/health')

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
