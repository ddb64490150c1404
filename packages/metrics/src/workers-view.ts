import type { SlotState, SupervisorView, WorkerInfo } from '@corral/cluster-boot'
import type { MetricsAggregator } from './metrics-aggregator.js'
import type { Snapshot } from './snapshot.js'

/** One row of GET /workers. */
export interface WorkerView {
  slot: number
  id: number
  pid: number
  state: string
  /** seconds since the process was forked */
  uptime: number
  /** restarts of this slot before this worker */
  restarts: number
  /** requests answered, and those answered with a 5xx, per the worker's latest snapshot */
  requests: number | null
  errors: number | null
  inFlight: number | null
  /** open WebSocket and Socket.IO connections, from @corral/realtime's gauge (null without it) */
  openConnections: number | null
  rss: number | null
  heapUsed: number | null
  heapTotal: number | null
  /** mean event-loop delay over the last stats interval, ms */
  eventLoopDelay: number | null
  eventLoopUtilization: number | null
  /** ms since its latest snapshot arrived (null before the first) */
  lastPush: number | null
  /** no snapshot for 3 push intervals and UNRESPONSIVE_MS (blocked, or its channel is stuck), or cluster-boot says so */
  unresponsive: boolean
}

/** The gauge @corral/realtime reports a worker's open WebSocket and Socket.IO connections in. */
export const CONNECTIONS_METRIC = 'corral_realtime_connections'

/** The worker's open real-time connections, all transports, per its snapshot; null when it reports none. */
function openConnections (snapshot: Snapshot | undefined): number | null {
  const metric = snapshot?.metrics.find((m) => m.name === CONNECTIONS_METRIC)
  return metric === undefined ? null : metric.values.reduce((n, v) => n + v.value, 0)
}

/** What cluster-boot says of a slot (`status: 'backoff'` while a crash-looping slot waits). */
export type SlotView = SlotState

/** A worker that has not pushed for this long (ms), and for three of its push intervals, is shown unresponsive. */
export const UNRESPONSIVE_MS = 3000

/**
 * Whether a worker is unresponsive: cluster-boot says so, or its snapshots
 * stopped (`age` ms since the last one, which came `gap` ms after the one
 * before; no age: none arrived yet).
 */
export function unresponsive (record: WorkerInfo, age: number | undefined, gap: number): boolean {
  return record.state === 'unresponsive' || (age !== undefined && age > Math.max(UNRESPONSIVE_MS, 3 * gap))
}

/** GET /workers: every live worker, and totals that include workers that are gone. */
export interface WorkersView {
  workers: WorkerView[]
  totals: { requests: number, errors: number }
  restarts: number
  reloads: number
  memoryRestarts: number
  crashLoop: boolean
  stopping: boolean
  /** per slot, from cluster-boot when it reports slots (null otherwise) */
  slots: SlotView[]
}

export function workersView (supervisor: SupervisorView, aggregator: MetricsAggregator, now = Date.now()): WorkersView {
  const state = supervisor.state()
  const workers = state.workers.map((record): WorkerView => {
    const latest = aggregator.latest(record)
    const stats = record.stats
    return {
      slot: record.slot,
      id: record.id,
      pid: record.pid,
      state: record.state,
      uptime: Math.round((now - record.startedAt) / 1000),
      restarts: record.restarts,
      requests: latest?.snapshot.requests ?? null,
      errors: latest?.snapshot.errors ?? null,
      inFlight: latest?.snapshot.inFlight ?? null,
      openConnections: openConnections(latest?.snapshot),
      rss: stats?.rss ?? null,
      heapUsed: stats?.heapUsed ?? null,
      heapTotal: stats?.heapTotal ?? null,
      eventLoopDelay: stats === undefined ? null : Math.round(stats.eventLoopDelay * 100) / 100,
      eventLoopUtilization: stats === undefined ? null : Math.round(stats.eventLoopUtilization * 1000) / 1000,
      lastPush: latest === undefined ? null : now - latest.receivedAt,
      unresponsive: unresponsive(record, latest === undefined ? undefined : now - latest.receivedAt, latest?.gap ?? 0)
    }
  })
  return {
    workers,
    totals: aggregator.totals(),
    restarts: state.restarts,
    reloads: state.reloads,
    memoryRestarts: state.memoryRestarts,
    crashLoop: state.crashLoop,
    stopping: state.stopping,
    slots: state.slots
  }
}
