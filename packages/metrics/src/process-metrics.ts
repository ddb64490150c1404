import { performance } from 'node:perf_hooks'
import { Counter, Gauge, collectDefaultMetrics, type Registry } from 'prom-client'
import type { DefaultMetricsOptions } from './options.js'
import { eventLoopMonitor, SAMPLE_MS, STALL_MS } from '@corral/cluster-boot'

/** The name of the longest event-loop delay since the last collection, without the prefix. */
export const LAG_MAX = 'nodejs_eventloop_lag_max_seconds'

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
export function processMetrics (registry: Registry, opts: DefaultMetricsOptions, labels: Record<string, string> = {}): { stop: () => void } {
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

  // the process's one event-loop sampler, shared with cluster-boot's stats and @corral/health
  const monitor = eventLoopMonitor()
  const loop = monitor.reader()
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
    help: `The longest event-loop delay since the last collection (how late a ${SAMPLE_MS} ms timer fired), in seconds.`,
    registers: [registry],
    labelNames,
    aggregator: 'average',
    collect () { this.set(labels, loop.read().maxDelay / 1000) }
  })
  // eslint-disable-next-line no-new
  new Counter({
    name: `${prefix}nodejs_eventloop_stalled_seconds_total`,
    help: `Time the event loop was blocked, in stalls of ${STALL_MS} ms or more.`,
    registers: [registry],
    labelNames,
    collect () {
      this.reset()
      this.inc(labels, monitor.stalledSeconds)
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
      this.inc(labels, monitor.stalls)
    }
  })
  return { stop: () => loop.close() }
}
