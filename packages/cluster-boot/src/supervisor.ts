import cluster from 'node:cluster'
import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import { CONTROL, isControlMessage, type ControlMessage } from './control.js'
import { CrashLoopError } from './errors.js'
import type { ResolvedOptions } from './options.js'
import { PrimaryBus } from './primary-bus.js'
import { WorkerRecord } from './worker-record.js'

export interface ExitInfo {
  code: number | null
  signal: string | null
  /** the supervisor asked for it (stop, reload, memory limit); otherwise a crash */
  expected: boolean
}

export interface ReloadResult {
  ok: boolean
  /** slots whose worker was replaced */
  replaced: number[]
  /** the slot whose replacement never became ready; the old worker was kept */
  failedSlot?: number
}

export type ReplaceReason = 'reload' | 'maxMemory'

/** A summary for admin endpoints and metrics. */
export interface SupervisorState {
  workers: WorkerRecord[]
  restarts: number
  reloads: number
  memoryRestarts: number
  crashLoop: boolean
  stopping: boolean
}

/**
 * Forks one worker per slot and keeps it that way: respawns crashes with
 * backoff, replaces workers one at a time on reload or memory limit, drains
 * all on stop, and gives up on a crash loop.
 *
 * Events: fork(record), online(record), ready(record), exit(record, ExitInfo),
 * restart(newRecord, oldRecord, reason), reload(ReloadResult), stats(record),
 * crashloop(error), stopped().
 */
export class Supervisor extends EventEmitter {
  readonly bus: PrimaryBus
  /** crashes respawned, all slots */
  restarts = 0
  reloads = 0
  memoryRestarts = 0
  crashLoop = false
  stopping = false

  private readonly live = new Set<WorkerRecord>()
  private readonly current: Array<WorkerRecord | undefined>
  private readonly slotRestarts: number[]
  private readonly consecutiveCrashes: number[]
  private crashTimes: number[] = []
  private readonly respawnTimers = new Map<number, NodeJS.Timeout>()
  private queue: Promise<unknown> = Promise.resolve()
  private reloading: Promise<ReloadResult> | undefined
  private stopped: Promise<void> | undefined

  constructor (private readonly opts: ResolvedOptions, private readonly log: Logger) {
    super()
    this.current = new Array(opts.workers).fill(undefined)
    this.slotRestarts = new Array(opts.workers).fill(0)
    this.consecutiveCrashes = new Array(opts.workers).fill(0)
    this.bus = new PrimaryBus(() => this.live, (err, namespace) => {
      this.log.error({ err, namespace }, 'IPC handler failed')
    })
    this.bus.on(CONTROL, (data, from) => this.onControl(from, data))
  }

  /** Forks every slot; resolves when each first worker is ready (or gave up). */
  async start (): Promise<void> {
    const first: Array<Promise<boolean>> = []
    for (let slot = 0; slot < this.opts.workers; slot++) first.push(this.fork(slot).ready)
    await Promise.all(first)
  }

  /** Live workers, by slot; during a reload a slot can have two. */
  workers (): WorkerRecord[] {
    return [...this.live].sort((a, b) => a.slot - b.slot || a.id - b.id)
  }

  state (): SupervisorState {
    return {
      workers: this.workers(),
      restarts: this.restarts,
      reloads: this.reloads,
      memoryRestarts: this.memoryRestarts,
      crashLoop: this.crashLoop,
      stopping: this.stopping
    }
  }

  /**
   * Rolling reload: for each slot in turn, fork the replacement, wait until
   * it is ready, then drain the old one. A replacement that is not ready in
   * `readyTimeout` is killed, the old worker kept, and the reload stops there.
   * A reload asked for while one runs joins it.
   */
  reload (): Promise<ReloadResult> {
    if (this.reloading !== undefined) return this.reloading
    this.reloading = this.enqueue(async () => {
      const result: ReloadResult = { ok: true, replaced: [] }
      this.log.info({ workers: this.opts.workers }, 'rolling reload started')
      for (let slot = 0; slot < this.opts.workers && !this.stopping; slot++) {
        if (this.current[slot] === undefined) continue
        if (!(await this.replace(slot, 'reload'))) {
          result.ok = false
          result.failedSlot = slot
          break
        }
        result.replaced.push(slot)
      }
      if (result.ok) this.reloads++
      this.log[result.ok ? 'info' : 'error'](result, result.ok ? 'rolling reload done' : 'rolling reload stopped: a replacement never became ready, old worker kept')
      this.emit('reload', result)
      return result
    }).finally(() => { this.reloading = undefined })
    return this.reloading
  }

  /** Drains every worker, SIGKILLs what outlives `killTimeout`; resolves when all have exited. */
  stop (reason = 'stop'): Promise<void> {
    if (this.stopped !== undefined) return this.stopped
    this.stopping = true
    for (const timer of this.respawnTimers.values()) clearTimeout(timer)
    this.respawnTimers.clear()
    this.log.info({ reason, workers: this.live.size }, 'stopping: draining workers')
    this.stopped = Promise.all([...this.live].map((r) => this.drain(r, reason))).then(() => {
      this.log.info({ reason }, 'all workers stopped')
      this.emit('stopped')
    })
    return this.stopped
  }

  /** SIGKILLs every worker at once (a second Ctrl-C). */
  kill (): void {
    for (const record of this.live) record.worker.process.kill('SIGKILL')
  }

  private fork (slot: number, replacing = false): WorkerRecord {
    const worker = cluster.fork({
      ...this.opts.env,
      CORRAL_SLOT: String(slot),
      NODE_APP_INSTANCE: String(slot),
      CORRAL_WORKERS: String(this.opts.workers)
    })
    const record = new WorkerRecord(worker, slot, this.slotRestarts[slot])
    record.replacing = replacing
    this.live.add(record)
    worker.on('message', (raw: unknown) => this.bus.dispatch(raw, record))
    worker.once('online', () => this.emit('online', record))
    worker.on('error', (err) => this.log.warn({ err, slot, pid: record.pid }, 'worker IPC error'))
    worker.once('exit', (code, signal) => this.onExit(record, code, signal))
    const readyTimer = setTimeout(() => {
      if (record.state !== 'starting') return
      this.log.error({ slot, pid: record.pid, readyTimeout: this.opts.readyTimeout }, 'worker not ready within readyTimeout: killing it')
      if (record.replacing) record.expectedExit = true
      worker.process.kill('SIGKILL')
    }, this.opts.readyTimeout)
    record.ready.then(() => clearTimeout(readyTimer))
    this.log.info({ slot, workerId: worker.id, pid: record.pid, replacing }, 'worker forked')
    this.emit('fork', record)
    return record
  }

  private onControl (record: WorkerRecord, data: unknown): void {
    if (!isControlMessage(data)) {
      this.bus.stats.malformed++
      return
    }
    const message = data as ControlMessage
    if (message.event === 'ready') {
      if (record.state !== 'starting') return
      record.markReady()
      if (!record.replacing) this.current[record.slot] = record
      this.log.info({ slot: record.slot, pid: record.pid, startupMs: (record.readyAt ?? 0) - record.startedAt }, 'worker ready')
      this.emit('ready', record)
    } else if (message.event === 'stats') {
      record.stats = message.stats
      this.emit('stats', record)
      this.checkMemory(record)
    }
  }

  private checkMemory (record: WorkerRecord): void {
    const limit = this.opts.maxMemory
    if (limit === 0 || record.stats === undefined || record.stats.rss <= limit) return
    if (record.state !== 'ready' || this.current[record.slot] !== record || record.overLimit || this.stopping) return
    record.overLimit = true
    this.log.warn({ slot: record.slot, pid: record.pid, rss: record.stats.rss, maxMemory: limit }, 'worker passed maxMemory: replacing it')
    this.enqueue(async () => {
      if (this.current[record.slot] !== record) return
      if (await this.replace(record.slot, 'maxMemory')) this.memoryRestarts++
    })
  }

  /** Forks a replacement for `slot`, waits for it to be ready, then drains the old worker. */
  private async replace (slot: number, reason: ReplaceReason): Promise<boolean> {
    const old = this.current[slot]
    const next = this.fork(slot, true)
    const ready = await next.ready
    if (!ready || this.stopping) {
      if (next.state !== 'exited') {
        next.expectedExit = true
        next.worker.process.kill('SIGKILL')
      }
      return false
    }
    this.current[slot] = next
    if (old !== undefined) {
      this.emit('restart', next, old, reason)
      await this.drain(old, reason)
    }
    return true
  }

  private drain (record: WorkerRecord, reason: string): Promise<void> {
    if (record.state === 'exited') return record.exited
    record.expectedExit = true
    if (record.state !== 'draining') {
      record.state = 'draining'
      if (!this.bus.send(record, CONTROL, { event: 'drain', reason })) record.worker.process.kill('SIGTERM')
    }
    const timer = setTimeout(() => {
      this.log.warn({ slot: record.slot, pid: record.pid, killTimeout: this.opts.killTimeout }, 'worker still running after killTimeout: SIGKILL')
      record.worker.process.kill('SIGKILL')
    }, this.opts.killTimeout)
    return record.exited.finally(() => clearTimeout(timer))
  }

  private onExit (record: WorkerRecord, code: number | null, signal: string | null): void {
    this.live.delete(record)
    record.markExited()
    this.bus.forget(record)
    if (this.current[record.slot] === record) this.current[record.slot] = undefined
    const expected = record.expectedExit || this.stopping
    const info: ExitInfo = { code, signal, expected }
    const fields = { slot: record.slot, pid: record.pid, code, signal }
    if (expected) this.log.info(fields, 'worker exited')
    else this.log.warn({ ...fields, reason: record.state === 'starting' ? 'exited before ready' : 'unexpected exit' }, 'worker died')
    this.emit('exit', record, info)
    if (expected || this.crashLoop) return
    this.onCrash(record)
  }

  private onCrash (record: WorkerRecord): void {
    const now = Date.now()
    const slot = record.slot
    this.crashTimes = this.crashTimes.filter((t) => t > now - this.opts.restartWindow)
    this.crashTimes.push(now)
    if (record.readyAt !== undefined && now - record.readyAt >= this.opts.minUptime) this.consecutiveCrashes[slot] = 0
    // in a row counts too: the backoff spreads a slot's crashes beyond any window
    if (this.crashTimes.length > this.opts.maxRestarts || this.consecutiveCrashes[slot] >= this.opts.maxRestarts) {
      this.crashLoop = true
      const err = new CrashLoopError(this.crashTimes.length, this.opts.restartWindow)
      this.log.error({ err, maxRestarts: this.opts.maxRestarts, restartWindow: this.opts.restartWindow }, err.message)
      this.emit('crashloop', err)
      this.stop('crash loop')
      return
    }
    // another worker still holds the slot (a reload was under way): nothing to respawn
    for (const other of this.live) if (other.slot === slot) return
    const delay = Math.min(this.opts.restartDelay * 2 ** this.consecutiveCrashes[slot], this.opts.maxRestartDelay)
    this.consecutiveCrashes[slot]++
    this.log.info({ slot, delay }, 'respawning worker')
    this.respawnTimers.set(slot, setTimeout(() => {
      this.respawnTimers.delete(slot)
      if (this.stopping) return
      this.slotRestarts[slot]++
      this.restarts++
      this.emit('restart', this.fork(slot), record, 'crash')
    }, delay))
  }

  private enqueue<T> (task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task)
    this.queue = run.catch(() => {})
    return run
  }
}
