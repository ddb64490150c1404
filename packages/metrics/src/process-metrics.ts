import { performance } from 'node:perf_hooks'
import { Gauge, collectDefaultMetrics, type Registry } from 'prom-client'
import type { DefaultMetricsOptions } from './options.js'

/**
 * prom-client's process metrics (CPU, memory, heap, handles, event-loop
 * delay, GC) plus what it lacks: event-loop utilisation since the last
 * collection, the share of time the loop was busy.
 */
export function processMetrics (registry: Registry, opts: DefaultMetricsOptions): void {
  collectDefaultMetrics({ ...opts, register: registry })
  let last = performance.eventLoopUtilization()
  // eslint-disable-next-line no-new
  new Gauge({
    name: `${opts.prefix ?? ''}nodejs_eventloop_utilization_ratio`,
    help: 'Share of time the event loop was busy since the last collection (0 to 1).',
    registers: [registry],
    aggregator: 'average',
    collect () {
      const now = performance.eventLoopUtilization()
      this.set(performance.eventLoopUtilization(now, last).utilization)
      last = now
    }
  })
}
