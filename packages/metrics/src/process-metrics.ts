import { performance } from 'node:perf_hooks'
import { Counter, Gauge, collectDefaultMetrics, type Registry } from 'prom-client'
import type { DefaultMetricsOptions } from './options.js'
import { STALL_MS, StallSampler } from './stall-sampler.js'

/** The name of the longest event-loop delay since the last collection, without the prefix. */
export const LAG_MAX = 'nodejs_eventloop_lag_max_seconds'

/** ms between two ticks of the stall timer */
const STALL_TIMER_MS = 20

/**
 * prom-client's process metrics (CPU, memory, heap, handles, event-loop
 * delay, GC) plus what it lacks: event-loop utilisation since the last
 * collection, and stalls that are never lost (the longest delay since the
 * last collection, stalled seconds as a counter).
 *
 * Every gauge is a fact about one process: summing RSS or fd limits across
 * workers means nothing, so they are sent with the 'average' aggregator,
 * which the primary keeps per worker (a `worker` label) instead of merging.
 * `labels` are put on every series (the primary's own: worker="primary").
 */
export function processMetrics (registry: Registry, opts: DefaultMetricsOptions, labels: Record<string, string> = {}): StallSampler {
  const prefix = opts.prefix ?? ''
  const labelNames = Object.keys(labels)
  // only prom-client's own: gauges of the app's registry keep their aggregator
  const before = new Set(registry.getMetricsAsArray())
  collectDefaultMetrics({ ...opts, register: registry, labels })
  // prom-client resets its delay histogram at each collection, sometimes before a stall is recorded in it
  registry.removeSingleMetric(`${prefix}${LAG_MAX}`)
  for (const metric of registry.getMetricsAsArray()) {
    if (!before.has(metric) && (metric as unknown as { type: string }).type === 'gauge') (metric as unknown as { aggregator: string }).aggregator = 'average'
  }

  const stalls = new StallSampler(STALL_TIMER_MS)
  let last = performance.eventLoopUtilization()
  // eslint-disable-next-line no-new
  new Gauge({
    name: `${prefix}nodejs_eventloop_utilization_ratio`,
    help: 'Share of time the event loop was busy since the last collection (0 to 1).',
    registers: [registry],
    labelNames,
    aggregator: 'average',
    collect () {
      const now = performance.eventLoopUtilization()
      this.set(labels, performance.eventLoopUtilization(now, last).utilization)
      last = now
    }
  })
  // eslint-disable-next-line no-new
  new Gauge({
    name: `${prefix}${LAG_MAX}`,
    help: `The longest event-loop delay since the last collection (how late a ${STALL_TIMER_MS} ms timer fired), in seconds.`,
    registers: [registry],
    labelNames,
    aggregator: 'average',
    collect () { this.set(labels, stalls.takeLongest() / 1000) }
  })
  // eslint-disable-next-line no-new
  new Counter({
    name: `${prefix}nodejs_eventloop_stalled_seconds_total`,
    help: `Time the event loop was blocked, in stalls of ${STALL_MS} ms or more.`,
    registers: [registry],
    labelNames,
    collect () {
      this.reset()
      this.inc(labels, stalls.stalledSeconds)
    }
  })
  // eslint-disable-next-line no-new
  new Counter({
    name: `${prefix}nodejs_eventloop_stalls_total`,
    help: `Event-loop stalls of ${STALL_MS} ms or more.`,
    registers: [registry],
    labelNames,
    collect () {
      this.reset()
      this.inc(labels, stalls.stalls)
    }
  })
  return stalls
}
