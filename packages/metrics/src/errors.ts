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

/** The aggregator was registered on an instance that is not cluster-boot's admin server. */
export const NoSupervisorError = createError(
  'CORRAL_METRICS_NO_SUPERVISOR',
  'The metrics aggregator needs the cluster-boot admin instance (fastify.supervisor): register it in boot({ primary })',
  500
)
