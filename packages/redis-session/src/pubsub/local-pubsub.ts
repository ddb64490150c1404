import type { FastifyBaseLogger } from 'fastify'
import { checkChannel, encode, Handlers } from './channel-handlers.js'
import type { MessageHandler, PubSubApi } from './pubsub-api.js'

/** Pub/sub within one process: for an app that runs alone. Messages still travel as JSON. */
export class LocalPubSub implements PubSubApi {
  private readonly handlers: Handlers

  constructor (log: FastifyBaseLogger) {
    this.handlers = new Handlers(log)
  }

  async publish (channel: string, message: unknown): Promise<void> {
    checkChannel(channel)
    const json = encode(message)
    // asynchronous, as over a network: a publisher never runs its subscribers inline
    setImmediate(() => this.handlers.deliver(channel, json))
  }

  async subscribe (channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    checkChannel(channel)
    this.handlers.add(channel, handler)
    return async () => { this.handlers.remove(channel, handler) }
  }

  onResubscribe (fn: () => void): void { this.handlers.onResubscribe(fn) }

  async close (): Promise<void> { this.handlers.clear() }
}
