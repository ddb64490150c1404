import type { FastifyBaseLogger } from 'fastify'
import { parseStored } from '../stored-json.js'
import type { MessageHandler } from './pubsub-api.js'

const MAX_CHANNEL = 256

/**
 * The largest message, as JSON bytes (1 MiB): a bus carries notifications,
 * not payloads, and the embedded bus copies each message to every worker.
 */
export const MAX_MESSAGE_BYTES = 1024 * 1024

/** Throws when `json` is over {@link MAX_MESSAGE_BYTES}. */
export function checkSize (json: string): void {
  // a character is at most 3 bytes in UTF-8 (4 for a surrogate pair of 2): cheap before exact
  if (json.length * 3 > MAX_MESSAGE_BYTES && Buffer.byteLength(json) > MAX_MESSAGE_BYTES) {
    throw new TypeError(`a pub/sub message is at most ${MAX_MESSAGE_BYTES} bytes of JSON`)
  }
}

export function checkChannel (channel: unknown): asserts channel is string {
  if (typeof channel !== 'string' || channel.length === 0 || channel.length > MAX_CHANNEL) {
    throw new TypeError(`a channel is a string of 1 to ${MAX_CHANNEL} characters, got ${JSON.stringify(channel)?.slice(0, 40)}`)
  }
}

/**
 * The handlers of each channel, and delivery of a raw JSON message to them:
 * what every transport shares.
 */
export class Handlers {
  private readonly byChannel = new Map<string, Set<MessageHandler>>()
  private readonly resubscribed: Array<() => void> = []

  constructor (private readonly log: FastifyBaseLogger) {}

  /** Adds a handler; true when it is the channel's first (time to subscribe). */
  add (channel: string, handler: MessageHandler): boolean {
    let set = this.byChannel.get(channel)
    const first = set === undefined
    if (set === undefined) this.byChannel.set(channel, set = new Set())
    set.add(handler)
    return first
  }

  /** Removes a handler; true when the channel has none left (time to unsubscribe). */
  remove (channel: string, handler: MessageHandler): boolean {
    const set = this.byChannel.get(channel)
    if (set === undefined || !set.delete(handler)) return false
    if (set.size > 0) return false
    this.byChannel.delete(channel)
    return true
  }

  /** Removes every handler of a channel (its subscription failed). */
  drop (channel: string): void { this.byChannel.delete(channel) }

  channels (): string[] { return [...this.byChannel.keys()] }

  onResubscribe (fn: () => void): void { this.resubscribed.push(fn) }

  resubscribedNow (): void {
    for (const fn of this.resubscribed) {
      try { fn() } catch (err) { this.log.error({ err }, 'pub/sub: an onResubscribe callback threw') }
    }
  }

  deliver (channel: string, json: unknown): void {
    const set = this.byChannel.get(channel)
    if (set === undefined) return
    // untrusted as a stored value: anyone with access to Redis (or any worker) publishes
    const message = typeof json === 'string' ? parseStored(json) : undefined
    if (message === undefined) {
      this.log.warn({ channel }, 'pub/sub: a message that is not JSON (or would poison a prototype) was dropped')
      return
    }
    for (const handler of set) {
      try {
        Promise.resolve(handler(message, channel)).catch((err: unknown) => this.failed(channel, err))
      } catch (err) {
        this.failed(channel, err)
      }
    }
  }

  private failed (channel: string, err: unknown): void {
    this.log.error({ err, channel }, 'pub/sub: a message handler failed')
  }

  clear (): void { this.byChannel.clear() }
}

export function encode (message: unknown): string {
  const json = JSON.stringify(message)
  if (json === undefined) throw new TypeError('a message must be JSON-serializable')
  checkSize(json)
  return json
}
