import net from 'node:net'
import type { Logger } from 'pino'
import type { ResolvedStickyOptions } from '../options.js'
import { slotFromSid } from '../sticky-sid.js'
import { HEAD_TIMEOUT_MS, MAX_HEAD_BYTES, headComplete, readRequestKey } from './first-request.js'
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

/** The slot (not the worker) a client address belongs to: a reload or a respawn keeps the key on its slot. */
export function stickySlot (address: string | undefined, slots: number): number {
  return fnv1a(normalizeAddress(address)) % slots
}

/** The slot of a key read from a request: the one a `stickySid()` id names, else its hash's. */
export function keySlot (value: string, slots: number): number {
  const named = slotFromSid(value)
  return named !== undefined && named < slots ? named : fnv1a(value) % slots
}

const noop = (): void => {}

/** Whether the connection is closed already. */
function gone (pending: Pending): boolean {
  return pending.socket !== undefined ? pending.socket.destroyed : pending.handle === undefined
}

/** Closes the connection, socket or bare handle. */
function drop (pending: Pending): void {
  if (pending.socket !== undefined) pending.socket.destroy()
  pending.handle?.close()
  pending.handle = undefined
}

/** A connection's TCP handle as libuv gives it to net.Server, before any net.Socket wraps it. */
interface TcpHandle {
  getpeername: (out: { address?: string }) => number
  close: () => void
}

interface Pending {
  /** a connection the primary reads the first request of */
  socket?: net.Socket
  /** one it never reads: the bare handle, as Node's own round-robin passes it */
  handle?: TcpHandle
  attempts: number
  timer?: NodeJS.Timeout
  /** the slot its key names (its own, before a dead slot's keys move) */
  slot?: number
  /** what the primary read of the first request, replayed by the worker */
  head?: Buffer
}

/** The message a connection travels with; `head` (base64) when the primary read the first bytes. */
export interface StickyMessage {
  corral: typeof STICKY_CONNECTION
  head?: string
}

interface ReadingHandle {
  readStop?: () => number
}

/**
 * `scheduling: 'sticky'`: the primary accepts every connection itself, paused,
 * and hands it to the worker of the slot its key names, so every connection
 * of one client reaches one worker (Socket.IO long-polling, in-memory
 * sessions). The key is the client address (read off the socket: nothing of
 * the request is read), or a sid or cookie in the first request: then the
 * primary reads the first bytes (bounded in size and time, falling back to
 * the address) and the worker replays them. Only a ready worker gets connections: while a slot has
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
  /** first requests that did not show their key in time or size, routed by address */
  unreadable = 0
  private readonly waiting = new Set<Pending>()
  private closed = false
  /** the next slot a first request without its key goes to ('sid': a handshake, spread in turn) */
  private turn = 0
  /** whether the primary reads the first request at all: only for a key or an address that lives in it */
  private readonly reads: boolean
  private readonly wholeHead: boolean

  constructor (private readonly supervisor: Supervisor, private readonly slots: number, private readonly log: Logger, private readonly sticky: ResolvedStickyOptions = { key: 'ip', trustProxy: 0 }) {
    this.reads = sticky.key !== 'ip' || sticky.trustProxy > 0
    this.wholeHead = sticky.key !== 'sid' || sticky.trustProxy > 0
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => {
      if (this.reads) this.readFirst({ socket, attempts: 0 })
      else this.route({ socket, attempts: 0, slot: stickySlot(socket.remoteAddress, slots) })
    })
    // a worker got ready: the connections that found none wait no longer
    supervisor.on('ready', () => this.flush())
  }

  listen (port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen({ port, host }, () => {
        this.server.off('error', reject)
        if (!this.reads) this.takeHandles()
        this.server.on('error', (err) => this.log.error({ err }, 'sticky balancer error'))
        resolve()
      })
    })
  }

  /**
   * Keyed on the address alone, the primary never reads a connection: it
   * takes each accepted handle before net.Server wraps it in a net.Socket
   * (a stream, its state, garbage) and passes it on bare, as Node's
   * round-robin cluster does (it sets `onconnection` on its listening handle
   * the same way). Where that handle is not there, net.Server's sockets serve.
   */
  private takeHandles (): void {
    const listening = (this.server as unknown as { _handle?: { onconnection?: unknown } })._handle
    if (listening === undefined || listening === null || typeof listening.onconnection !== 'function') return
    listening.onconnection = (err: number, handle?: TcpHandle): void => {
      if (err !== 0 || handle === undefined) {
        this.log.warn({ errno: err }, 'sticky balancer could not accept a connection')
        return
      }
      const peer: { address?: string } = {}
      handle.getpeername(peer)
      this.route({ handle, attempts: 0, slot: stickySlot(peer.address, this.slots) })
    }
  }

  /** Stops accepting; connections already handed over stay with their workers, which drain them. */
  close (): void {
    if (this.closed) return
    this.closed = true
    this.server.close()
    for (const pending of this.waiting) {
      clearTimeout(pending.timer)
      drop(pending)
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

  /** The worker for a client address: see `targetSlot`. */
  target (address: string | undefined): WorkerRecord | undefined {
    return this.targetSlot(stickySlot(address, this.slots))
  }

  /** The slot's worker, or the next slot's in order that has one ready: deterministic, so a moved key stays together. */
  targetSlot (own: number): WorkerRecord | undefined {
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
    if (this.closed || gone(pending)) {
      drop(pending)
      return
    }
    const record = this.targetSlot(pending.slot ?? this.nextTurn())
    if (record === undefined) {
      this.wait(pending)
      return
    }
    pending.attempts++
    // unread (paused on connect), or read and stopped: the worker reads the rest itself
    const message: StickyMessage = pending.head === undefined || pending.head.length === 0
      ? { corral: STICKY_CONNECTION }
      : { corral: STICKY_CONNECTION, head: pending.head.toString('base64') }
    // a bare handle goes as Node passes any native handle (ours to close once written); a socket as a socket
    const sent = (pending.socket ?? pending.handle) as net.Socket
    record.worker.send(message, sent, { keepOpen: false }, (err: Error | null) => {
      if (err == null) {
        this.handed++
        // the worker has its own descriptor now: the primary's goes
        pending.handle?.close()
        return
      }
      // the worker exited between the choice and the write: the connection is still ours, try again
      if (pending.attempts < MAX_ATTEMPTS && !gone(pending)) this.route(pending)
      else {
        this.log.warn({ err, slot: record.slot, pid: record.pid }, 'sticky hand-over failed: connection dropped')
        drop(pending)
      }
    })
  }

  /** A first request without its key: the next slot in turn, so handshakes from one address spread. */
  private nextTurn (): number {
    this.turn = (this.turn + 1) % this.slots
    return this.turn
  }

  /**
   * Reads the first request's head (up to MAX_HEAD_BYTES, for up to
   * HEAD_TIMEOUT_MS), then stops reading and routes by what it says. A
   * client that closes meanwhile is dropped; one too slow or too large, or
   * not HTTP, goes by its address: the worker's parser answers it.
   */
  private readFirst (pending: Pending): void {
    const socket = pending.socket as net.Socket
    const chunks: Buffer[] = []
    let size = 0
    const finish = (complete: boolean): void => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('end', onGone)
      socket.off('close', onGone)
      socket.pause()
      // pause() alone keeps the handle reading into the stream's buffer, and bytes read after the
      // hand-over is written would be lost with the primary's handle: stop it reading now
      const handle = (socket as unknown as { _handle?: ReadingHandle })._handle
      handle?.readStop?.()
      const head = Buffer.concat(chunks, size)
      pending.head = head
      if (!complete) this.unreadable++
      const found = complete ? readRequestKey(head, this.sticky.key, this.sticky.trustProxy) : {}
      if (found.value !== undefined) pending.slot = keySlot(found.value, this.slots)
      // Socket.IO's handshake has no sid yet: any worker may issue one, so spread them
      else if (complete && this.sticky.key === 'sid') pending.slot = undefined
      else pending.slot = stickySlot(found.forwarded ?? socket.remoteAddress, this.slots)
      this.route(pending)
    }
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk)
      size += chunk.length
      if (size >= MAX_HEAD_BYTES) finish(false)
      else if (headComplete(chunks.length === 1 ? chunk : Buffer.concat(chunks, size), this.wholeHead)) finish(true)
    }
    const onGone = (): void => {
      clearTimeout(timer)
      socket.destroy()
    }
    const timer = setTimeout(() => finish(false), HEAD_TIMEOUT_MS)
    // a reset while reading is the client's business, never an uncaught error in the primary
    socket.on('error', noop)
    socket.on('data', onData)
    socket.once('end', onGone)
    socket.once('close', onGone)
    socket.resume()
  }

  private wait (pending: Pending): void {
    this.waiting.add(pending)
    pending.timer = setTimeout(() => {
      this.waiting.delete(pending)
      drop(pending)
    }, PENDING_TIMEOUT_MS)
    pending.timer.unref()
    // a bare handle says nothing when its client leaves: it waits its time, and the worker reads the end
    pending.socket?.once('close', () => {
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
