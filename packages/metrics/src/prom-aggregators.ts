import * as prom from 'prom-client'
import type { Aggregator } from 'prom-client'
import type { MetricJSON } from './exposition.js'

/**
 * prom-client's cluster aggregators (sum, first, min, max, average, omit):
 * exported at run time, missing from its typings.
 */
export const aggregators = (prom as unknown as {
  aggregators: Record<Aggregator, (metrics: MetricJSON[]) => MetricJSON | undefined>
}).aggregators
