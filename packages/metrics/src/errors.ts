import createError from '@fastify/error'

/** A `@corral/metrics` option has a value it cannot take. */
export const InvalidOptionError = createError(
  'CORRAL_METRICS_INVALID_OPTION',
  'Invalid @corral/metrics option "%s": expected %s, got %s',
  500,
  TypeError
)

/** A metric of that name exists with another type or shape. */
export const MetricConflictError = createError(
  'CORRAL_METRICS_CONFLICT',
  'A metric named "%s" is already registered as a %s',
  500
)
