import cluster from 'node:cluster'
import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import { CONTROL, isControlMessage, type ControlMessage } from '../ipc/control.js'
import { CrashLoopError, ScaleError, ScaleRefusedError, StartupError } from '../errors.js'
import type { ResolvedOptions } from '../options.js'
import { PrimaryBus } from '../ipc/primary-bus.js'
import { redact } from '../redact.js'
import { WorkerRecord } from './worker-record.js'
import { readStats } from '../worker/worker-stats.js'

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

/** a worker's start-up error as kept and shown: one line, this long at most */
const MAX_ERROR = 300
const MAX_CODE = 64

export interface ScaleResult {
  ok: boolean
  /** slots before and after */
  from: number
  workers: number
  /** slots forked and ready */
  added: number[]
  /** slots drained and gone, highest first */
  removed: number[]
  /** a new slot whose first worker never became ready: the slots added were removed again */
  failedSlot?: number
  error?: string
}

/** The most slots `scale()` accepts, as the `workers` option. */
export const MAX_SLOTS = 1024

export type ReplaceReason = 'reload' | 'maxMemory'

/**
 * `backoff`: crash-looping, its respawn pending with a growing delay;
 * `unresponsive`: its only worker stopped its heartbeat and is being replaced.
 */
export type SlotStatus = 'up' | 'starting' | 'unresponsive' | 'backoff'

/** One slot as the admin endpoints and metrics show it. */
export interface SlotState {
  slot: number
  status: SlotStatus
  /** crashes in a row (reset once a worker stays up `minUptime`) */
  crashes: number
  /** when the pending respawn forks, epoch ms */
  respawnAt?: number
  /** why its last worker died, one line */
  lastError?: string
}

/** A summary for admin endpoints and metrics. */
export interface SupervisorState {
  workers: WorkerRecord[]
  slots: SlotState[]
  restarts: number
  reloads: number
  memoryRestarts: number
  /** workers replaced for missing their heartbeat for `hangTimeout` */
  hangRestarts: number
  /** true once every slot crash-looped and the supervisor gave up forking */
  crashLoop: boolean
  stopping: boolean
}

interface Slot {
  crashes: number
  /** workers in a row that died before becoming ready */
  startFailures: number
  everReady: boolean
  timer?: NodeJS.Timeout
  respawnAt?: number
  lastError?: string
}

/**
 * Forks one worker per slot and keeps it that way until stop: every slot
 * always has a worker or a respawn pending; scale() adds or removes slots.
 * A crash-looping slot backs off (a growing delay, capped) while the others
 * serve; workers are replaced one at a time on reload or memory limit; a
 * worker whose heartbeat stops is replaced; all drain on stop. It gives up only when no slot can keep a
 * worker alive, or at once when workers fail to start with the same error.
 *
 * Events: fork(record), online(record), ready(record), exit(record, ExitInfo),
 * restart(newRecord, oldRecord, reason), reload(ReloadResult),
 * scale(ScaleResult), stats(record), unresponsive(record), crashloop(error),
 * startupfailed(error), stopped().
 */
export class Supervisor extends EventEmitter {
  readonly bus: PrimaryBus
  /** crashes respawned, all slots */
  restarts = 0
  reloads = 0
  memoryRestarts = 0
  hangRestarts = 0
  crashLoop = false
  stopping = false
  /** set when workers failed to start with the same error; the reason the supervisor stopped */
  startupError: (Error & { code?: string }) | undefined

  private readonly live = new Set<WorkerRecord>()
  private readonly current: Array<WorkerRecord | undefined>
  private readonly slotRestarts: number[]
  private readonly slots: Slot[]
  /** slots now: `workers` at start, changed by scale() */
  private count: number
  /** start-up errors of slots never ready, by message: the same one twice is fatal */
  private readonly startupErrors = new Map<string, number>()
  private hangTimer: NodeJS.Timeout | undefined
  private queue: Promise<unknown> = Promise.resolve()
  private reloading: Promise<ReloadResult> | undefined
  private stopped: Promise<void> | undefined

  constructor (private readonly opts: ResolvedOptions, private readonly log: Logger) {
    super()
    this.count = opts.workers
    this.current = new Array(opts.workers).fill(undefined)
    this.slotRestarts = new Array(opts.workers).fill(0)
    this.slots = Array.from({ length: opts.workers }, () => ({ crashes: 0, startFailures: 0, everReady: false }))
    this.bus = new PrimaryBus(() => this.live, (err, namespace) => {
      this.log.error({ err, namespace }, 'IPC handler failed')
    })
    this.bus.on(CONTROL, (data, from) => this.onControl(from, data))
  }

  /** Forks every slot; resolves when each first worker is ready (or gave up). */
  async start (): Promise<void> {
    if (this.opts.hangTimeout > 0 && this.hangTimer === undefined) {
      this.hangTimer = setInterval(() => this.checkHeartbeats(), Math.max(10, Math.min(1000, Math.floor(this.opts.hangTimeout / 4))))
      this.hangTimer.unref()
    }
    const first: Array<Promise<boolean>> = []
    for (let slot = 0; slot < this.count; slot++) first.push(this.fork(slot).ready)
    await Promise.all(first)
  }

  /** Live workers, by slot; during a reload a slot can have two. */
  workers (): WorkerRecord[] {
    return [...this.live].sort((a, b) => a.slot - b.slot || a.id - b.id)
  }

  /** Each slot: serving, starting, or backing off after crashes. */
  slotStates (): SlotState[] {
    return this.slots.map((s, slot) => {
      let status: SlotStatus = 'starting'
      if (s.timer !== undefined) status = 'backoff'
      else if (this.hasWorker(slot, 'ready')) status = 'up'
      else if (this.hasWorker(slot, 'unresponsive')) status = 'unresponsive'
      const up = this.current[slot]
      // a worker that stayed up minUptime ends the streak, as its next crash would find
      const crashes = up?.readyAt !== undefined && Date.now() - up.readyAt >= this.opts.minUptime ? 0 : s.crashes
      const state: SlotState = { slot, status, crashes }
      if (s.respawnAt !== undefined) state.respawnAt = s.respawnAt
      if (s.lastError !== undefined) state.lastError = s.lastError
      return state
    })
  }

  state (): SupervisorState {
    return {
      workers: this.workers(),
      slots: this.slotStates(),
      restarts: this.restarts,
      reloads: this.reloads,
      memoryRestarts: this.memoryRestarts,
      hangRestarts: this.hangRestarts,
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
      this.log.info({ workers: this.count }, 'rolling reload started')
      for (let slot = 0; slot < this.count && !this.stopping; slot++) {
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
      this.safeEmit('reload', result)
      return result
    }).finally(() => { this.reloading = undefined })
    return this.reloading
  }

  /** Slots now: `workers` at start, then what `scale()` made it. */
  get size (): number {
    return this.count
  }

  /**
   * Changes the number of slots at run time, queued behind any reload. Up:
   * the new slots fork at once and the scale succeeds when each first worker
   * is ready; if one is not (it crashed, or `readyTimeout`), the slots added
   * are drained again and the result says which failed. Down: the highest
   * slots go first, one at a time, each worker drained as on stop.
   * Throws a ScaleError (code CORRAL_INVALID_SCALE) for a count out of range.
   */
  scale (workers: number): Promise<ScaleResult> {
    if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1 || workers > MAX_SLOTS) {
      return Promise.reject(new ScaleError(`an integer from 1 to ${MAX_SLOTS}`, JSON.stringify(workers) ?? String(workers)))
    }
    if (this.opts.scheduling === 'sticky') {
      // each client's address hashes over a fixed number of slots: another count moves every client
      return Promise.reject(new ScaleRefusedError("scheduling 'sticky' hashes clients over a fixed number of slots: restart with another worker count"))
    }
    if (this.stopping) return Promise.reject(new ScaleRefusedError('the app is stopping'))
    return this.enqueue(async () => {
      const from = this.count
      const result: ScaleResult = { ok: true, from, workers, added: [], removed: [] }
      if (this.stopping) return { ...result, ok: false, workers: from, error: 'stopping' }
      this.log.info({ from, workers }, 'scaling')
      if (workers > from) {
        const records: WorkerRecord[] = []
        for (let slot = from; slot < workers; slot++) {
          this.current.push(undefined)
          this.slotRestarts.push(0)
          this.slots.push({ crashes: 0, startFailures: 0, everReady: false })
        }
        this.count = workers
        for (let slot = from; slot < workers; slot++) records.push(this.fork(slot))
        const ready = await Promise.all(records.map((r) => r.ready))
        const failed = ready.indexOf(false)
        if (failed !== -1 || this.stopping) {
          result.ok = false
          result.failedSlot = from + (failed === -1 ? 0 : failed)
          result.error = this.stopping ? 'stopping' : this.slots[result.failedSlot]?.lastError ?? records[failed]?.startupError ?? 'not ready'
          await this.shrink(from, 'scale failed')
        } else {
          result.added = records.map((r) => r.slot)
        }
      } else {
        result.removed = await this.shrink(workers, 'scale')
      }
      result.workers = this.count
      this.log[result.ok ? 'info' : 'error'](result, result.ok ? 'scaled' : 'scale failed: a new slot never became ready, the slots added were removed')
      this.safeEmit('scale', result)
      return result
    })
  }

  /** Drains the slots from the highest down to `workers`, one at a time; the slots removed. */
  private async shrink (workers: number, reason: string): Promise<number[]> {
    const removed: number[] = []
    while (this.count > workers) {
      const slot = this.count - 1
      // first: the slot no longer exists, so its worker's exit is not respawned
      this.count = slot
      clearTimeout(this.slots[slot].timer)
      await Promise.all([...this.live].filter((r) => r.slot === slot).map((r) => this.drain(r, reason)))
      this.current.length = slot
      this.slotRestarts.length = slot
      this.slots.length = slot
      removed.push(slot)
    }
    return removed
  }

  /** Drains every worker, SIGKILLs what outlives `killTimeout`; resolves when all have exited. */
  stop (reason = 'stop'): Promise<void> {
    if (this.stopped !== undefined) return this.stopped
    this.stopping = true
    for (const s of this.slots) {
      clearTimeout(s.timer)
      s.timer = undefined
      s.respawnAt = undefined
    }
    clearInterval(this.hangTimer)
    this.log.info({ reason, workers: this.live.size }, 'stopping: draining workers')
    this.stopped = this.drainAll(reason).then(() => {
      this.log.info({ reason }, 'all workers stopped')
      // last, and once: the one line a person starting the app needs
      if (this.startupError !== undefined) this.log.fatal({ code: this.startupError.code, cause: this.startupError.cause }, this.startupError.message)
      this.safeEmit('stopped')
    })
    return this.stopped
  }

  private async drainAll (reason: string): Promise<void> {
    // until none is left: a worker whose fork was already under way when the stop began counts too
    while (this.live.size > 0) await Promise.all([...this.live].map((r) => this.drain(r, reason)))
  }

  /** SIGKILLs every worker at once (a second Ctrl-C). */
  kill (): void {
    for (const record of this.live) record.worker.process.kill('SIGKILL')
  }

  private hasWorker (slot: number, state?: WorkerRecord['state']): boolean {
    for (const record of this.live) if (record.slot === slot && (state === undefined || record.state === state)) return true
    return false
  }

  private fork (slot: number, replacing = false): WorkerRecord {
    const worker = cluster.fork({
      ...this.opts.env,
      CORRAL_SLOT: String(slot),
      NODE_APP_INSTANCE: String(slot),
      CORRAL_WORKERS: String(this.count)
    })
    const record = new WorkerRecord(worker, slot, this.slotRestarts[slot])
    record.replacing = replacing
    this.live.add(record)
    worker.on('message', (raw: unknown) => {
      record.lastSeen = Date.now()
      this.bus.dispatch(raw, record)
    })
    worker.once('online', () => this.safeEmit('online', record))
    worker.on('error', (err) => this.log.warn({ err, slot, pid: record.pid }, 'worker IPC error'))
    worker.once('exit', (code, signal) => this.onExit(record, code, signal))
    const readyTimer = setTimeout(() => {
      if (record.state !== 'starting') return
      this.log.error({ slot, pid: record.pid, readyTimeout: this.opts.readyTimeout }, 'worker not ready within readyTimeout: killing it')
      record.startupError ??= `not ready within readyTimeout (${this.opts.readyTimeout} ms)`
      if (record.replacing) record.expectedExit = true
      worker.process.kill('SIGKILL')
    }, this.opts.readyTimeout)
    record.ready.then(() => clearTimeout(readyTimer))
    this.log.info({ slot, workerId: worker.id, pid: record.pid, replacing }, 'worker forked')
    this.safeEmit('fork', record)
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
      const slot = this.slots[record.slot]
      slot.everReady = true
      slot.startFailures = 0
      if (!record.replacing) this.current[record.slot] = record
      this.log.info({ slot: record.slot, pid: record.pid, startupMs: (record.readyAt ?? 0) - record.startedAt }, 'worker ready')
      this.safeEmit('ready', record)
    } else if (message.event === 'stats') {
      const stats = readStats(message.stats)
      if (stats === undefined) {
        this.bus.stats.malformed++
        return
      }
      record.stats = stats
      // a stats message already in the pipe when a hung worker was SIGKILLed must not bring it back
      if (record.state === 'unresponsive' && !record.hungKilled) {
        record.state = 'ready'
        record.unresponsiveAt = undefined
        this.log.warn({ slot: record.slot, pid: record.pid }, 'worker responsive again')
      }
      this.safeEmit('stats', record)
      this.checkMemory(record)
    } else if (message.event === 'failed') {
      // only a worker still starting can fail to start; a ready one cannot rewrite why it dies
      if (record.state !== 'starting') return
      // worker-sent text reaches /supervisor, metrics and the log: no credentials, bounded
      const code = message.error.code === undefined ? undefined : message.error.code.slice(0, MAX_CODE)
      this.onStartupFailure(record, redact(message.error.message.split('\n')[0], MAX_ERROR), code)
    }
  }

  /**
   * A worker could not start. If no worker was ever ready and the same error
   * came before (another slot's first worker, or this slot's last), nothing
   * will ever start: stop now and say why once.
   */
  private onStartupFailure (record: WorkerRecord, message: string, code: string | undefined): void {
    record.startupError = message
    // once any worker got ready the app can start: a later start-up error is a crash like any other
    if (record.replacing || this.slots.some((s) => s.everReady) || this.stopping) return
    const seen = (this.startupErrors.get(message) ?? 0) + 1
    this.startupErrors.set(message, seen)
    if (seen < 2) return
    const err = new StartupError(message)
    if (code !== undefined) (err as { cause?: unknown }).cause = { code }
    this.startupError = err
    this.safeEmit('startupfailed', err)
    this.stop('start-up error')
  }

  private checkMemory (record: WorkerRecord): void {
    const limit = this.opts.maxMemory
    if (limit === 0 || record.stats === undefined || record.stats.rss <= limit) return
    if (record.state !== 'ready' || this.current[record.slot] !== record || record.overLimit || this.stopping) return
    record.overLimit = true
    this.log.warn({ slot: record.slot, pid: record.pid, rss: record.stats.rss, maxMemory: limit }, 'worker passed maxMemory: replacing it')
    this.enqueue(async () => {
      // queued behind a reload: a stop since then means no more forks
      if (this.stopping || this.current[record.slot] !== record) return
      if (await this.replace(record.slot, 'maxMemory')) this.memoryRestarts++
    })
  }

  /** Marks ready workers whose heartbeat stopped as unresponsive, and kills those still stuck after `killTimeout`. */
  private checkHeartbeats (): void {
    const now = Date.now()
    for (const record of this.live) {
      if (record.state === 'ready' && now - record.lastSeen > this.opts.hangTimeout) {
        record.state = 'unresponsive'
        record.unresponsiveAt = now
        this.log.error({ slot: record.slot, pid: record.pid, silentMs: now - record.lastSeen, hangTimeout: this.opts.hangTimeout }, 'worker unresponsive: no heartbeat within hangTimeout, replacing it')
        this.safeEmit('unresponsive', record)
      } else if (record.state === 'unresponsive' && !record.hungKilled && now - (record.unresponsiveAt ?? now) >= this.opts.killTimeout) {
        record.hungKilled = true
        this.hangRestarts++
        this.log.error({ slot: record.slot, pid: record.pid, killTimeout: this.opts.killTimeout }, 'worker still unresponsive after killTimeout: SIGKILL')
        record.worker.process.kill('SIGKILL')
      }
    }
  }

  /** Forks a replacement for `slot`, waits for it to be ready, then drains the old worker. */
  private async replace (slot: number, reason: ReplaceReason): Promise<boolean> {
    if (this.stopping) return false
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
    // it serves now: its own crashes count against the slot from here on
    next.replacing = false
    this.current[slot] = next
    if (old !== undefined && old.state !== 'exited') {
      this.safeEmit('restart', next, old, reason)
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
    const wasReady = record.readyAt !== undefined
    const hung = record.state === 'unresponsive'
    this.live.delete(record)
    record.markExited()
    this.bus.forget(record)
    if (this.current[record.slot] === record) this.current[record.slot] = undefined
    const expected = record.expectedExit || this.stopping
    const info: ExitInfo = { code, signal, expected }
    const fields = { slot: record.slot, pid: record.pid, code, signal }
    if (expected) {
      this.log.info(fields, 'worker exited')
    } else {
      const reason = hung ? 'unresponsive' : wasReady ? 'unexpected exit' : 'exited before ready'
      this.log.warn({ ...fields, reason, ...(record.startupError === undefined ? {} : { error: record.startupError }) }, 'worker died')
    }
    // the respawn first: whatever a listener does, the slot keeps its worker
    if (!this.stopping && !this.crashLoop) {
      if (!expected) this.onCrash(record, code, signal, hung)
      if (!this.crashLoop) this.ensureWorker(record.slot, record)
    }
    this.safeEmit('exit', record, info)
  }

  private onCrash (record: WorkerRecord, code: number | null, signal: string | null, hung: boolean): void {
    const slot = this.slots[record.slot]
    // a replacement that died before serving fails its reload; the worker that serves is not to blame
    if (record.replacing) return
    if (record.readyAt !== undefined && Date.now() - record.readyAt >= this.opts.minUptime) slot.crashes = 0
    slot.crashes++
    if (record.readyAt === undefined) slot.startFailures++
    slot.lastError = hung
      ? `unresponsive: no heartbeat for ${this.opts.hangTimeout} ms`
      : record.startupError ?? `exited ${signal !== null ? `on ${signal}` : `with code ${String(code)}`}${record.readyAt === undefined ? ' before ready' : ''}`
    // give up only when no slot can keep a worker alive: each crash-looped past maxRestarts without one ever getting ready
    if (this.slots.every((s) => s.startFailures > this.opts.maxRestarts)) {
      this.crashLoop = true
      const err = new CrashLoopError(this.opts.maxRestarts)
      this.log.error({ err, maxRestarts: this.opts.maxRestarts, lastError: slot.lastError }, err.message)
      this.safeEmit('crashloop', err)
      this.stop('crash loop')
    }
  }

  /** The invariant: until stop, every slot has a worker or a respawn pending. */
  private ensureWorker (index: number, previous: WorkerRecord): void {
    const slot = this.slots[index]
    if (this.stopping || index >= this.count || slot.timer !== undefined || this.hasWorker(index)) return
    const delay = slot.crashes === 0 ? this.opts.restartDelay : Math.min(this.opts.restartDelay * 2 ** (slot.crashes - 1), this.opts.maxRestartDelay)
    slot.respawnAt = Date.now() + delay
    this.log.info({ slot: index, delay, crashes: slot.crashes }, 'respawning worker')
    slot.timer = setTimeout(() => {
      slot.timer = undefined
      slot.respawnAt = undefined
      if (this.stopping || index >= this.count) return
      this.slotRestarts[index]++
      this.restarts++
      this.safeEmit('restart', this.fork(index), previous, 'crash')
    }, delay)
  }

  /**
   * Every listener runs, and none can throw into the supervisor: a failing
   * metrics hook or user listener must not skip a respawn, reach the
   * primary's uncaught-exception handler, or reject stop().
   */
  private safeEmit (event: string, ...args: unknown[]): void {
    for (const listener of this.rawListeners(event)) {
      try {
        (listener as (...a: unknown[]) => unknown).apply(this, args)
      } catch (err) {
        this.log.error({ err, event }, 'supervisor event listener failed')
      }
    }
  }

  private enqueue<T> (task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task)
    this.queue = run.catch(() => {})
    return run
  }
}
