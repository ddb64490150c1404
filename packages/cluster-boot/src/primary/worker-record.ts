import type { Worker } from 'node:cluster'

/** `unresponsive`: was ready, but its heartbeat stopped for `hangTimeout` (a blocked event loop); it is being replaced. */
export type WorkerState = 'starting' | 'ready' | 'unresponsive' | 'draining' | 'exited'

/** What a worker reports about itself every `statsInterval`. */
export interface WorkerStats {
  rss: number
  heapUsed: number
  heapTotal: number
  /** mean event-loop delay over the last interval, ms */
  eventLoopDelay: number
  /** worst event-loop delay since the last report, ms: a stall between two reports is not lost */
  eventLoopDelayMax: number
  /** event-loop utilisation over the last interval, 0..1 */
  eventLoopUtilization: number
  /** CPU time (user + system) over the last interval, in % of one core: 250 is two and a half cores */
  cpu: number
  /** HTTP requests received since the worker started */
  requests: number
  /** HTTP requests received per second over the last interval */
  requestsPerSecond: number
}

/** The primary's view of one worker process. */
export class WorkerRecord {
  state: WorkerState = 'starting'
  readonly startedAt = Date.now()
  readyAt: number | undefined
  stats: WorkerStats | undefined
  /** last time any message came from it: its heartbeat */
  lastSeen = Date.now()
  /** when it was marked unresponsive */
  unresponsiveAt: number | undefined
  /** SIGKILLed for staying unresponsive */
  hungKilled = false
  /** what it reported when it failed to start */
  startupError: string | undefined
  /** set when the supervisor asked it to go, so its exit is not a crash */
  expectedExit = false
  /** forked to replace a live worker of its slot (reload, memory limit) */
  replacing = false
  /** passed maxMemory; its replacement is queued */
  overLimit = false
  /** resolves true when the worker reports ready, false if it exits first */
  readonly ready: Promise<boolean>
  /** resolves when the process has exited */
  readonly exited: Promise<void>
  private settleReady!: (ok: boolean) => void
  private settleExited!: () => void

  constructor (
    readonly worker: Worker,
    readonly slot: number,
    /** restarts of this slot before this worker was forked */
    readonly restarts: number
  ) {
    this.ready = new Promise((resolve) => { this.settleReady = resolve })
    this.exited = new Promise((resolve) => { this.settleExited = resolve })
  }

  markReady (): void {
    this.state = 'ready'
    this.readyAt = Date.now()
    this.settleReady(true)
  }

  markExited (): void {
    this.state = 'exited'
    this.settleReady(false)
    this.settleExited()
  }

  get id (): number { return this.worker.id }
  get pid (): number { return this.worker.process.pid ?? 0 }

  toJSON (): Record<string, unknown> {
    // identity last: nothing a worker reported can stand in for it
    return {
      ...this.stats,
      slot: this.slot,
      id: this.id,
      pid: this.pid,
      state: this.state,
      uptime: Math.round((Date.now() - this.startedAt) / 1000),
      restarts: this.restarts
    }
  }
}
