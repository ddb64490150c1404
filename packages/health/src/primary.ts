// The primary side of @corral/health (`@corral/health/primary`): cluster-boot
// loads it on its admin instance when a worker registers the health plugin.
export { healthAggregator, healthAggregator as default } from './aggregator-plugin.js'
export type { HealthAggregatorOptions } from './options.js'
