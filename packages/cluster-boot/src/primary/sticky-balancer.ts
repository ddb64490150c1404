import net from 'node:net'
import type { Logger } from 'pino'
import type { Supervisor } from './supervisor.js'
import type { WorkerRecord } from './worker-record.js'

/** The message a paused socket travels with from the primary to its worker. */
export const STICKY_CONNECTION = 'corral.sticky'

/** How long a connection waits for any worker to be ready before it is dropped. */
const PENDING_TIMEOUT_MS = 10_000
/** A connection handed over while its worker was exiting is routed again, at most this often. */
const MAX_ATTEMPTS = 3

/** The address as one key: an IPv4 client seen on a dual-stack socket is still the same client. */
export function normalizeAddress (address: string | undefined): string {
  if (address === undefined) return ''
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}

/** FNV-1a, 32 bits: stable across processes and Node versions, and cheap. */
function fnv1a (key: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/** The slot (not the worker) a key belongs to: a reload or a respawn keeps the key on its slot. */
export function stickySlot (address: string | undefined, slots: number): number {
  return fnv1a(normalizeAddress(address)) % slots
}

interface Pending {
  socket: net.Socket
  attempts: number
  timer?: NodeJS.Timeout
}

/**
 * `scheduling: 'sticky'`: the primary accepts every connection itself, paused,
 * and hands it to the worker of the slot its client address hashes to, so
 * every connection of one client reaches one worker (Socket.IO long-polling,
 * in-memory sessions). Only a ready worker gets connections: while a slot has
 * none (dead, respawning, not ready yet), its keys go to the next slot in
 * order that has one, and come back once it is ready again. During a reload
 * the slot's newest ready worker wins, so the old one only drains.
 */
export class StickyBalancer {
  readonly server: net.Server
  /** connections handed to workers, all time */
  handed = 0
  /** connections routed away from their own slot */
  moved = 0
  private readonly waiting = new Set<Pending>()
  private closed = false

  constructor (private readonly supervisor: Supervisor, private readonly slots: number, private readonly log: Logger) {
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => this.route({ socket, attempts: 0 }))
    // a worker got ready: the connections that found none wait no longer
    supervisor.on('ready', () => this.flush())
  }

  listen (port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen({ port, host }, () => {
        this.server.off('error', reject)
        this.server.on('error', (err) => this.log.error({ err }, 'sticky balancer error'))
        resolve()
      })
    })
  }

  /** Stops accepting; connections already handed over stay with their workers, which drain them. */
  close (): void {
    if (this.closed) return
    this.closed = true
    this.server.close()
    for (const pending of this.waiting) {
      clearTimeout(pending.timer)
      pending.socket.destroy()
    }
    this.waiting.clear()
  }

  /** The worker that serves a slot now: its newest ready one (a reload's replacement once ready), or none. */
  private serving (slot: number, workers: WorkerRecord[]): WorkerRecord | undefined {
    let best: WorkerRecord | undefined
    for (const record of workers) {
      if (record.slot !== slot || record.state !== 'ready' || !record.worker.isConnected()) continue
      if (best === undefined || record.id > best.id) best = record
    }
    return best
  }

  /** The slot's worker, or the next slot's in order that has one ready: deterministic, so a moved key stays together. */
  target (address: string | undefined): WorkerRecord | undefined {
    const own = stickySlot(address, this.slots)
    const workers = this.supervisor.workers()
    for (let i = 0; i < this.slots; i++) {
      const record = this.serving((own + i) % this.slots, workers)
      if (record !== undefined) {
        if (i > 0) this.moved++
        return record
      }
    }
    return undefined
  }

  private route (pending: Pending): void {
    const { socket } = pending
    if (this.closed || socket.destroyed) {
      socket.destroy()
      return
    }
    const record = this.target(socket.remoteAddress)
    if (record === undefined) {
      this.wait(pending)
      return
    }
    pending.attempts++
    // the worker reads the first bytes itself: the socket stays paused until it resumes it there
    record.worker.send({ corral: STICKY_CONNECTION }, socket, { keepOpen: false }, (err: Error | null) => {
      if (err == null) {
        this.handed++
        return
      }
      // the worker exited between the choice and the write: the socket is still ours, try again
      if (pending.attempts < MAX_ATTEMPTS && !socket.destroyed) this.route(pending)
      else {
        this.log.warn({ err, slot: record.slot, pid: record.pid }, 'sticky hand-over failed: connection dropped')
        socket.destroy()
      }
    })
  }

  private wait (pending: Pending): void {
    this.waiting.add(pending)
    pending.timer = setTimeout(() => {
      this.waiting.delete(pending)
      pending.socket.destroy()
    }, PENDING_TIMEOUT_MS)
    pending.timer.unref()
    pending.socket.once('close', () => {
      clearTimeout(pending.timer)
      this.waiting.delete(pending)
    })
  }

  private flush (): void {
    const all = [...this.waiting]
    this.waiting.clear()
    for (const pending of all) {
      clearTimeout(pending.timer)
      this.route(pending)
    }
  }
}
