import type { SupervisorView } from '@corral/cluster-boot'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { MetricsAggregator } from './metrics-aggregator.js'

/**
 * What the aggregator knows of each worker beyond its own metrics: how long
 * ago its last snapshot came. A worker blocked in synchronous code cannot
 * say so itself; this age keeps growing while it is blocked.
 */
export function aggregatorMetrics (registry: Registry, supervisor: SupervisorView, aggregator: MetricsAggregator, now: () => number = Date.now): void {
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'corral_worker_last_push_age_seconds',
    help: 'Seconds since the latest metrics snapshot of the worker in this slot arrived (grows while a worker is blocked).',
    labelNames: ['worker'],
    registers: [registry],
    collect () {
      this.reset()
      // by slot, then age of the process: during a reload the slot's newer worker is the one that stays
      for (const record of supervisor.workers()) {
        const latest = aggregator.latest(record)
        if (latest !== undefined) this.set({ worker: String(record.slot) }, (now() - latest.receivedAt) / 1000)
      }
    }
  })
  // eslint-disable-next-line no-new
  new Counter({
    name: 'corral_metrics_retired_series_dropped_total',
    help: 'Series of dead workers left out of their slot\'s retired totals because they passed maxSeries.',
    registers: [registry],
    collect () {
      this.reset()
      this.inc(aggregator.retiredDropped)
    }
  })
}
