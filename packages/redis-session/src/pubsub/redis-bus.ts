import type { FastifyBaseLogger } from 'fastify'
import { BusUnavailableError, reason } from '../errors.js'
import { bounded } from '../redis/bounded.js'
import { checkChannel, encode, Handlers } from './channel-handlers.js'
import type { MessageHandler, PubSubApi } from './pubsub-api.js'

/**
 * What the Redis transports share: channel checks, JSON, the handlers, a
 * publish bounded by the timeout whatever the client, and subscribing on a
 * channel's first handler and leaving on its last. Subclasses say how a
 * message is sent and how a channel is listened to.
 */
export abstract class RedisBus implements PubSubApi {
  protected readonly handlers: Handlers
  /** a channel's subscription under way: every subscribe meanwhile waits for it, and shares its failure */
  private readonly pending = new Map<string, Promise<void>>()

  constructor (protected readonly prefix: string, protected readonly timeout: number, log: FastifyBaseLogger) {
    this.handlers = new Handlers(log)
  }

  /** sends the JSON on the channel (subclasses add the prefix, as for listen) */
  protected abstract send (channel: string, json: string): Promise<unknown>
  /** starts listening to a channel (its first handler) */
  protected abstract listen (channel: string): Promise<void>
  /** stops listening to a channel (its last handler left); never throws */
  protected abstract unlisten (channel: string): Promise<void>
  abstract close (): Promise<void>

  async publish (channel: string, message: unknown): Promise<void> {
    checkChannel(channel)
    const json = encode(message)
    try {
      // bounded whatever the client's options: a publish never holds a request past the timeout
      await bounded(this.send(channel, json), this.timeout)
    } catch (err) {
      throw new BusUnavailableError(reason(err))
    }
  }

  async subscribe (channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    checkChannel(channel)
    if (this.handlers.add(channel, handler)) {
      // bounded, whatever the client: a subscribe never waits past the timeout
      const listening = bounded(this.listen(channel), this.timeout)
      this.pending.set(channel, listening)
      // registered first, so it runs before any caller resumes: on a failure
      // every handler added meanwhile goes, and the next subscribe listens anew
      listening.then(() => { this.pending.delete(channel) }, () => {
        this.pending.delete(channel)
        this.handlers.drop(channel)
        this.unlisten(channel).catch(() => {})
      })
    }
    const listening = this.pending.get(channel)
    if (listening !== undefined) {
      try {
        await listening
      } catch (err) {
        throw new BusUnavailableError(reason(err))
      }
    }
    return async () => {
      if (this.handlers.remove(channel, handler)) await this.unlisten(channel)
    }
  }

  onResubscribe (fn: () => void): void { this.handlers.onResubscribe(fn) }
}
