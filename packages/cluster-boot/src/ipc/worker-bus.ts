import { BusCore, safeSend, type BusStats, type RequestOptions } from './ipc-bus.js'

type Channel = NodeJS.Process | { send?: Function, connected?: boolean, on: Function }

/**
 * The worker's end of the IPC bus: messages to and requests of the primary,
 * and handlers for what the primary sends or asks.
 */
export class WorkerBus {
  private readonly core: BusCore<undefined>

  constructor (private readonly channel: Channel, onError: (err: unknown, namespace: string) => void) {
    this.core = new BusCore(onError)
    channel.on('message', (raw: unknown) => {
      this.core.dispatch(raw, undefined, (e) => safeSend(channel, e))
    })
    channel.on('disconnect', () => this.core.closePeer(undefined))
  }

  get stats (): BusStats { return this.core.stats }

  /** Fire-and-forget message to the primary; false when the channel is gone. */
  send (namespace: string, data?: unknown): boolean {
    const ok = safeSend(this.channel, { corral: namespace, data })
    if (ok) this.core.stats.sent++
    return ok
  }

  /**
   * Sends and resolves once the message is written to the channel (true) or
   * the channel closed first (false): for last words before an exit.
   */
  deliver (namespace: string, data?: unknown): Promise<boolean> {
    return new Promise((resolve) => {
      if (safeSend(this.channel, { corral: namespace, data }, resolve)) this.core.stats.sent++
    })
  }

  /** Asks the primary and resolves with its handler's answer. */
  request<T = unknown> (namespace: string, data?: unknown, options?: RequestOptions): Promise<T> {
    return this.core.request(namespace, data, undefined, (e) => safeSend(this.channel, e), options) as Promise<T>
  }

  /** Listens to messages (broadcasts included) from the primary; returns an unsubscribe function. */
  on (namespace: string, listener: (data: unknown) => void): () => void {
    return this.core.on(namespace, (data) => listener(data))
  }

  /** Answers requests the primary makes on `namespace`. */
  handle (namespace: string, responder: (data: unknown) => unknown): void {
    this.core.handle(namespace, (data) => responder(data))
  }
}
