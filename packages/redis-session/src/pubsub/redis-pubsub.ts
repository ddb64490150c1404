import type { FastifyBaseLogger } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import type { RedisClient } from '../redis-client.js'
import { RedisBus } from './redis-bus.js'

/**
 * Pub/sub on Redis: publishes on the shared client, listens on a dedicated
 * subscriber connection (a subscribed connection can do nothing else), which
 * ioredis resubscribes after a reconnect; `onResubscribe` callbacks run then.
 * Also the bus of a Redis Cluster without sharded pub/sub (Redis < 7).
 */
export class RedisPubSub extends RedisBus {
  private readonly subscriber: RedisClient
  private lost = false

  constructor (private readonly client: RedisClient, prefix: string, log: FastifyBaseLogger, timeout = 1000) {
    super(prefix, timeout, log)
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

  protected async send (channel: string, json: string): Promise<unknown> { return await this.client.publish(this.prefix + channel, json) }
  protected async listen (channel: string): Promise<void> { await this.subscriber.subscribe(this.prefix + channel) }
  protected async unlisten (channel: string): Promise<void> { await this.subscriber.unsubscribe(this.prefix + channel).catch(() => {}) }

  async close (): Promise<void> {
    this.handlers.clear()
    await this.subscriber.quit().catch(() => this.subscriber.disconnect())
  }
}
