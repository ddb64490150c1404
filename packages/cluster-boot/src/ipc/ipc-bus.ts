import { IpcClosedError, IpcNoHandlerError, IpcRemoteError, IpcTimeoutError } from '../errors.js'

/**
 * What travels on the channel. `corral` is the namespace; `rid` marks a request
 * and `re` the reply to one. Anything else on the channel is not ours.
 */
export interface Envelope {
  corral: string
  data?: unknown
  rid?: number
  re?: number
  err?: string
  /** the error's code, with `err` */
  code?: string
}

/** Counters a bus keeps about what it saw; dropped messages are never thrown on. */
export interface BusStats {
  received: number
  sent: number
  /** not an envelope at all (wrong shape, wrong types) */
  malformed: number
  /** a valid envelope for a namespace nobody listens on, a late reply, or a reply from a peer that was not asked */
  unknown: number
  /** handlers that threw; the error is reported through `onError` */
  handlerErrors: number
}

export interface RequestOptions {
  /** ms to wait for the reply (default 5000) */
  timeout?: number
}

export type Reply = (envelope: Envelope) => void

export const DEFAULT_REQUEST_TIMEOUT = 5000
const MAX_NAMESPACE_LENGTH = 128
const NO_HANDLER = new IpcNoHandlerError('').code

export function isEnvelope (value: unknown): value is Envelope {
  if (value === null || typeof value !== 'object') return false
  const m = value as Record<string, unknown>
  if (typeof m.corral !== 'string' || m.corral.length === 0 || m.corral.length > MAX_NAMESPACE_LENGTH) return false
  if (m.rid !== undefined && !Number.isSafeInteger(m.rid)) return false
  if (m.re !== undefined && !Number.isSafeInteger(m.re)) return false
  if (m.err !== undefined && typeof m.err !== 'string') return false
  if (m.code !== undefined && typeof m.code !== 'string') return false
  return true
}

interface Pending {
  resolve: (value: unknown) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
  namespace: string
  peer: unknown
}

type Listener<P> = (data: unknown, peer: P) => void
type Responder<P> = (data: unknown, peer: P) => unknown

/**
 * The request/reply and dispatch logic both ends of the bus share. `P` is
 * what identifies the sender: the worker record in the primary, nothing in a
 * worker.
 */
export class BusCore<P> {
  readonly stats: BusStats = { received: 0, sent: 0, malformed: 0, unknown: 0, handlerErrors: 0 }
  private readonly listeners = new Map<string, Set<Listener<P>>>()
  private readonly responders = new Map<string, Responder<P>>()
  private readonly pending = new Map<number, Pending>()
  private nextId = 1

  constructor (private readonly onError: (err: unknown, namespace: string) => void) {}

  on (namespace: string, listener: Listener<P>): () => void {
    let set = this.listeners.get(namespace)
    if (set === undefined) {
      set = new Set()
      this.listeners.set(namespace, set)
    }
    set.add(listener)
    return () => { set.delete(listener) }
  }

  handle (namespace: string, responder: Responder<P>): void {
    this.responders.set(namespace, responder)
  }

  /** Feeds one raw message from `peer`; `reply` sends an envelope back to it. */
  dispatch (raw: unknown, peer: P, reply: Reply): void {
    if (!isEnvelope(raw)) {
      this.stats.malformed++
      return
    }
    this.stats.received++
    if (raw.re !== undefined) return this.settle(raw, peer)
    if (raw.rid !== undefined) return this.answer(raw, raw.rid, peer, reply)
    const set = this.listeners.get(raw.corral)
    if (set === undefined || set.size === 0) {
      this.stats.unknown++
      return
    }
    for (const listener of set) {
      try {
        listener(raw.data, peer)
      } catch (err) {
        this.stats.handlerErrors++
        this.onError(err, raw.corral)
      }
    }
  }

  /** Sends a request through `send` and resolves with the reply's data. */
  request (namespace: string, data: unknown, peer: unknown, send: (e: Envelope) => boolean, options: RequestOptions = {}): Promise<unknown> {
    const timeout = options.timeout ?? DEFAULT_REQUEST_TIMEOUT
    const rid = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rid)
        reject(new IpcTimeoutError(namespace, timeout))
      }, timeout)
      this.pending.set(rid, { resolve, reject, timer, namespace, peer })
      if (!send({ corral: namespace, data, rid })) {
        clearTimeout(timer)
        this.pending.delete(rid)
        reject(new IpcClosedError(namespace))
      } else {
        this.stats.sent++
      }
    })
  }

  /** Rejects every request still waiting on `peer` (it exited). */
  closePeer (peer: unknown): void {
    for (const [rid, p] of this.pending) {
      if (p.peer !== peer) continue
      clearTimeout(p.timer)
      this.pending.delete(rid)
      p.reject(new IpcClosedError(p.namespace))
    }
  }

  private settle (envelope: Envelope, from: P): void {
    const p = this.pending.get(envelope.re as number)
    // only the peer that was asked may answer: another worker guessing ids is ignored
    if (p === undefined || p.peer !== from) {
      this.stats.unknown++
      return
    }
    clearTimeout(p.timer)
    this.pending.delete(envelope.re as number)
    if (envelope.err === undefined) p.resolve(envelope.data)
    else if (envelope.code === NO_HANDLER) p.reject(new IpcNoHandlerError(p.namespace))
    else p.reject(new IpcRemoteError(p.namespace, envelope.err))
  }

  private answer (envelope: Envelope, rid: number, peer: P, reply: Reply): void {
    const responder = this.responders.get(envelope.corral)
    if (responder === undefined) {
      this.stats.unknown++
      reply({ corral: envelope.corral, re: rid, err: 'no handler', code: NO_HANDLER })
      return
    }
    Promise.resolve()
      .then(() => responder(envelope.data, peer))
      .then(
        (data) => reply({ corral: envelope.corral, re: rid, data }),
        (err: unknown) => {
          this.stats.handlerErrors++
          this.onError(err, envelope.corral)
          reply({ corral: envelope.corral, re: rid, err: err instanceof Error ? err.message : String(err) })
        }
      )
  }
}

/**
 * Sends on a `process.send`-like channel without ever throwing. `done` gets
 * whether the message was handed to the channel (false when it closed first).
 */
export function safeSend (channel: { send?: Function, connected?: boolean }, envelope: Envelope, done?: (sent: boolean) => void): boolean {
  if (typeof channel.send !== 'function' || channel.connected === false) {
    done?.(false)
    return false
  }
  try {
    // with a callback, a closed channel reports here instead of throwing or emitting 'error'
    channel.send(envelope, undefined, undefined, (err: Error | null) => done?.(err == null))
    return true
  } catch {
    done?.(false)
    return false
  }
}
