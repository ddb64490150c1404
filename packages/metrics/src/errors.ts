import createError from '@fastify/error'
import { invalidOptionError } from '@corral/cluster-boot/options'

/** A `@corral/metrics` option has a value it cannot take: `@corral/metrics: option "<path>" must be <what> (got <value>)`. */
export const InvalidOptionError = invalidOptionError('CORRAL_METRICS_INVALID_OPTION', '@corral/metrics')

/** A metric of that name exists with another type or shape. */
export const MetricConflictError = createError(
  'CORRAL_METRICS_CONFLICT',
  'A metric named "%s" is already registered as a %s',
  500
)
