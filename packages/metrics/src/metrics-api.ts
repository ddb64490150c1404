import {
  Counter, Gauge, Histogram, Summary, type Registry,
  type CounterConfiguration, type GaugeConfiguration, type HistogramConfiguration, type SummaryConfiguration
} from 'prom-client'
import { InvalidOptionError, MetricConflictError } from './errors.js'
import { createMeter, type Meter, type MeterOptions } from './meter.js'
import type { WireSnapshot } from './snapshot.js'

/** `fastify.metrics`: the worker's registry and helpers for custom metrics. */
export interface MetricsApi {
  /** the prom-client registry of this process */
  readonly registry: Registry
  /** true in a cluster-boot worker (snapshots go to the primary); false when the app serves its own endpoint */
  readonly clustered: boolean
  /** a counter in the registry (the same one again if the name is taken by a counter) */
  counter<T extends string = string> (config: CounterConfiguration<T>): Counter<T>
  /** a gauge; `aggregator` says how the primary merges workers (default 'sum') */
  gauge<T extends string = string> (config: GaugeConfiguration<T>): Gauge<T>
  /** a histogram; summed across workers when their buckets match */
  histogram<T extends string = string> (config: HistogramConfiguration<T>): Histogram<T>
  /** a summary; its quantiles cannot be merged, so the primary keeps one series per worker */
  summary<T extends string = string> (config: SummaryConfiguration<T>): Summary<T>
  /** a rate of events per `unit` seconds over `timeframe` seconds, like @pm2/io's meter */
  meter (options: MeterOptions): Meter
  /** the snapshot a push would send now */
  snapshot (): Promise<WireSnapshot>
  /** pushes a snapshot to the primary now; resolves false outside a worker or when the channel is gone */
  push (): Promise<boolean>
}

type MetricClass = typeof Counter | typeof Gauge | typeof Histogram | typeof Summary

/** Creates metrics in `registry`, or returns the one of that name when the type matches. */
export function metricFactory (registry: Registry): Pick<MetricsApi, 'counter' | 'gauge' | 'histogram' | 'summary' | 'meter'> {
  const make = <M>(Kind: MetricClass, config: { name: string }): M => {
    const existing = registry.getSingleMetric(config.name)
    if (existing !== undefined) {
      if (existing instanceof Kind) return existing as M
      throw new MetricConflictError(config.name, (existing as { type?: string }).type ?? 'other metric')
    }
    return new (Kind as any)({ ...config, registers: [registry] }) as M
  }
  return {
    counter: (config) => make(Counter, config),
    gauge: (config) => make(Gauge, config),
    histogram: (config) => make(Histogram, config),
    summary: (config) => make(Summary, config),
    meter: (options) => {
      for (const key of ['timeframe', 'unit'] as const) {
        const v = options[key]
        if (v !== undefined && (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v))) {
          throw new InvalidOptionError(`meter.${key}`, 'a positive number of seconds', String(v))
        }
      }
      if (registry.getSingleMetric(options.name) !== undefined) throw new MetricConflictError(options.name, 'metric (meters are created once)')
      return createMeter(registry, options)
    }
  }
}
