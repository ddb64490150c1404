import type { SupervisorView } from '@corral/cluster-boot'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { MetricsAggregator } from './metrics-aggregator.js'

function counter (registry: Registry, name: string, help: string, read: () => number): void {
  // eslint-disable-next-line no-new
  new Counter({
    name,
    help,
    registers: [registry],
    collect () {
      this.reset()
      this.inc(read())
    }
  })
}

function gauge (registry: Registry, name: string, help: string, read: () => number): void {
  // eslint-disable-next-line no-new
  new Gauge({ name, help, registers: [registry], collect () { this.set(read()) } })
}

/** The supervisor's state and the aggregator's own bookkeeping, read at scrape time. */
export function supervisorMetrics (registry: Registry, supervisor: SupervisorView, aggregator: MetricsAggregator): void {
  gauge(registry, 'corral_workers_alive', 'Worker processes alive (starting, ready, unresponsive or draining).', () => supervisor.workers().length)
  gauge(registry, 'corral_workers_ready', 'Workers ready to take traffic.', () => supervisor.workers().filter((w) => w.state === 'ready').length)
  counter(registry, 'corral_worker_restarts_total', 'Crashed workers respawned.', () => supervisor.state().restarts)
  counter(registry, 'corral_reloads_total', 'Rolling reloads completed.', () => supervisor.state().reloads)
  counter(registry, 'corral_memory_restarts_total', 'Workers replaced for passing maxMemory.', () => supervisor.state().memoryRestarts)
  gauge(registry, 'corral_crash_loop', '1 once the crash-loop guard gave up forking, else 0.', () => supervisor.state().crashLoop ? 1 : 0)
  gauge(registry, 'corral_slots_backoff', 'Slots crash-looping: no worker, a respawn pending with a growing delay.', () => supervisor.state().slots.filter((s) => s.status === 'backoff').length)
  gauge(registry, 'corral_workers_unresponsive', 'Workers whose heartbeat stopped for hangTimeout, being replaced.', () => supervisor.workers().filter((w) => w.state === 'unresponsive').length)
  counter(registry, 'corral_hang_restarts_total', 'Unresponsive workers killed and respawned.', () => supervisor.state().hangRestarts)
  counter(registry, 'corral_metrics_snapshots_received_total', 'Metrics snapshots received from workers.', () => aggregator.received)
  gauge(registry, 'corral_metrics_snapshot_series', 'Series in the latest snapshots of live workers.', () => aggregator.series())
  // eslint-disable-next-line no-new
  new Counter({
    name: 'corral_metrics_snapshots_dropped_total',
    help: 'Metrics snapshots dropped, by reason: malformed, too_large, stale (older than one already held), late (after the worker was retired).',
    labelNames: ['reason'],
    registers: [registry],
    collect () {
      this.reset()
      for (const [reason, n] of Object.entries(aggregator.dropped)) this.inc({ reason }, n)
    }
  })
}
