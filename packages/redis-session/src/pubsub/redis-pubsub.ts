import type { FastifyBaseLogger } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import { BusUnavailableError } from '../errors.js'
import type { RedisClient } from '../redis-client.js'
import { bounded } from '../redis/bounded.js'
import { checkChannel, encode, Handlers, type MessageHandler, type PubSubApi } from './handlers.js'

/**
 * Pub/sub on Redis: publishes on the shared client, listens on a dedicated
 * subscriber connection (a subscribed connection can do nothing else), which
 * ioredis resubscribes after a reconnect; `onResubscribe` callbacks run then.
 */
export class RedisPubSub implements PubSubApi {
  private readonly handlers: Handlers
  private readonly subscriber: RedisClient
  private lost = false

  constructor (private readonly client: RedisClient, private readonly prefix: string, log: FastifyBaseLogger, private readonly timeout = 1000) {
    this.handlers = new Handlers(log)
    // no ready check: a SUBSCRIBE sent while its INFO is in flight fails the
    // check, and the reconnect that follows forgets the subscription
    const options = { enableAutoPipelining: false, enableReadyCheck: false }
    this.subscriber = client.isCluster
      ? (client as Cluster).duplicate([], options)
      : (client as Redis).duplicate(options)
    this.subscriber.on('error', () => {})
    this.subscriber.on('message', (channel: string, json: string) => {
      if (channel.startsWith(prefix)) this.handlers.deliver(channel.slice(prefix.length), json)
    })
    this.subscriber.on('close', () => { this.lost = true })
    this.subscriber.on('ready', () => {
      if (!this.lost) return
      this.lost = false
      log.info({ channels: this.handlers.channels().length }, 'pub/sub: resubscribed after a reconnect')
      this.handlers.resubscribedNow()
    })
  }

  async publish (channel: string, message: unknown): Promise<void> {
    checkChannel(channel)
    const json = encode(message)
    try {
      // bounded whatever the client's options: a publish never holds a request past the timeout
      await bounded(this.client.publish(this.prefix + channel, json), this.timeout)
    } catch (err) {
      throw new BusUnavailableError((err as Error).message)
    }
  }

  async subscribe (channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    checkChannel(channel)
    if (this.handlers.add(channel, handler)) {
      try {
        await this.subscriber.subscribe(this.prefix + channel)
      } catch (err) {
        this.handlers.remove(channel, handler)
        throw new BusUnavailableError((err as Error).message)
      }
    }
    return async () => {
      if (this.handlers.remove(channel, handler)) await this.subscriber.unsubscribe(this.prefix + channel).catch(() => {})
    }
  }

  onResubscribe (fn: () => void): void { this.handlers.onResubscribe(fn) }

  async close (): Promise<void> {
    this.handlers.clear()
    await this.subscriber.quit().catch(() => this.subscriber.disconnect())
  }
}
