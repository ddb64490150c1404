// The primary side of @corral/metrics (`@corral/metrics/primary`): cluster-boot
// loads it on its admin instance when a worker registers the metrics plugin.
export { metricsAggregator, metricsAggregator as default } from './primary-plugin.js'
export type { MetricsAggregatorApi } from './primary-plugin.js'
export type { AggregatorOptions } from './options.js'
