import { BusCore, safeSend, type BusStats, type RequestOptions } from './ipc-bus.js'
import type { WorkerRecord } from '../primary/worker-record.js'

/**
 * The primary's end of the IPC bus: what workers send or ask, and messages,
 * requests and broadcasts to them. The supervisor feeds it every worker message.
 */
export class PrimaryBus {
  private readonly core: BusCore<WorkerRecord>

  constructor (
    private readonly live: () => Iterable<WorkerRecord>,
    onError: (err: unknown, namespace: string) => void
  ) {
    this.core = new BusCore(onError)
  }

  get stats (): BusStats { return this.core.stats }

  /** Called by the supervisor for each message a worker sends. */
  dispatch (raw: unknown, from: WorkerRecord): void {
    this.core.dispatch(raw, from, (e) => safeSend(from.worker, e))
  }

  /** Called by the supervisor when a worker is gone: its pending requests fail at once. */
  forget (record: WorkerRecord): void {
    this.core.closePeer(record)
  }

  /** Listens to messages workers send on `namespace`; returns an unsubscribe function. */
  on (namespace: string, listener: (data: unknown, from: WorkerRecord) => void): () => void {
    return this.core.on(namespace, listener)
  }

  /** Answers requests workers make on `namespace`; the return value (or promise) is the reply. */
  handle (namespace: string, responder: (data: unknown, from: WorkerRecord) => unknown): void {
    this.core.handle(namespace, responder)
  }

  /** Fire-and-forget message to one worker; false when its channel is gone. */
  send (to: WorkerRecord, namespace: string, data?: unknown): boolean {
    const ok = safeSend(to.worker, { corral: namespace, data })
    if (ok) this.core.stats.sent++
    return ok
  }

  /** Sends to every live worker; returns how many it reached. */
  broadcast (namespace: string, data?: unknown): number {
    let reached = 0
    for (const record of this.live()) {
      if (this.send(record, namespace, data)) reached++
    }
    return reached
  }

  /** Asks one worker and resolves with its handler's answer. */
  request<T = unknown> (to: WorkerRecord, namespace: string, data?: unknown, options?: RequestOptions): Promise<T> {
    return this.core.request(namespace, data, to, (e) => safeSend(to.worker, e), options) as Promise<T>
  }
}
