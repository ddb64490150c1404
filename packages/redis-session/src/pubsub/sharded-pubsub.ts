import calculateSlot from 'cluster-key-slot'
import type { FastifyBaseLogger } from 'fastify'
import { Redis, type Cluster } from 'ioredis'
import { bounded } from '../redis/bounded.js'
import { RedisBus } from './redis-bus.js'

const WATCH_MS = 500

/** A channel's subscriber connection: to the master that owned the channel's slot when it subscribed. */
interface Shard { node: string, conn: Redis }

/**
 * Pub/sub on a Redis Cluster with sharded pub/sub (SPUBLISH/SSUBSCRIBE,
 * Redis >= 7): a message goes to the one master that owns its channel's
 * slot, so a hung master stops only the channels it owns, not a share of
 * every publish. Each channel listens on a connection of its own to that
 * master; a watchdog PINGs it and compares its node with the slot map, and
 * on a failure or a move subscribes again on the slot's current master and
 * runs the `onResubscribe` callbacks. Messages published between the loss
 * and the new subscription are lost: at most once.
 */
export class ShardedPubSub extends RedisBus {
  private readonly shards = new Map<string, Shard>()
  private readonly watchdog: NodeJS.Timeout
  private closed = false
  private watching = false

  constructor (private readonly client: Cluster, prefix: string, timeout: number, private readonly log: FastifyBaseLogger) {
    super(prefix, timeout, log)
    this.watchdog = setInterval(() => { this.watch().catch(() => {}) }, WATCH_MS)
    this.watchdog.unref()
  }

  protected async send (channel: string, json: string): Promise<unknown> { return await this.client.spublish(this.prefix + channel, json) }
  protected async listen (channel: string): Promise<void> { await this.attach(channel) }
  protected async unlisten (channel: string): Promise<void> { this.detach(channel) }

  async close (): Promise<void> {
    this.closed = true
    clearInterval(this.watchdog)
    this.handlers.clear()
    for (const channel of [...this.shards.keys()]) this.detach(channel)
  }

  /** The master owning the channel's slot, as the Cluster client last saw it. */
  private async masterOf (full: string): Promise<string> {
    if (this.client.status !== 'ready') await bounded(new Promise((resolve) => this.client.once('ready', resolve)), this.timeout)
    const node = this.client.slots[calculateSlot(full)]?.[0]
    if (node === undefined) throw new Error(`no master known for the slot of ${full}`)
    return node
  }

  private async attach (channel: string): Promise<void> {
    const full = this.prefix + channel
    const node = await this.masterOf(full)
    const at = node.lastIndexOf(':')
    const conn = new Redis({
      ...this.client.options.redisOptions,
      host: node.slice(0, at),
      port: Number(node.slice(at + 1)),
      // no reconnect to the same address: after a failover it is the wrong node; the watchdog finds the right one
      retryStrategy: () => null,
      enableReadyCheck: false,
      enableAutoPipelining: false,
      maxRetriesPerRequest: 0,
      connectTimeout: Math.max(this.timeout, 1000),
      lazyConnect: false
    })
    conn.on('error', () => {})
    conn.on('smessage', (name: string, json: string) => {
      if (name === full) this.handlers.deliver(channel, json)
    })
    try {
      await bounded(conn.ssubscribe(full), this.timeout)
    } catch (err) {
      conn.disconnect()
      throw err
    }
    this.shards.get(channel)?.conn.disconnect()
    this.shards.set(channel, { node, conn })
  }

  private detach (channel: string): void {
    this.shards.get(channel)?.conn.disconnect()
    this.shards.delete(channel)
  }

  /** Every channel still listening on its slot's master; if not, subscribed again and the callbacks run. */
  private async watch (): Promise<void> {
    if (this.watching || this.closed) return
    this.watching = true
    try {
      let moved = false
      for (const [channel, shard] of [...this.shards]) {
        if (await this.healthy(channel, shard)) continue
        this.client.refreshSlotsCache()
        try {
          await this.attach(channel)
          moved = true
          this.log.info({ channel, from: shard.node, to: this.shards.get(channel)?.node }, 'pub/sub: resubscribed on the slot\'s current master')
        } catch (err) {
          // the failover is not over: the next round tries again
          this.log.debug({ channel, err: { message: (err as Error).message } }, 'pub/sub: resubscribe failed, retrying')
        }
      }
      if (moved && !this.closed) this.handlers.resubscribedNow()
    } finally {
      this.watching = false
    }
  }

  private async healthy (channel: string, shard: Shard): Promise<boolean> {
    if (shard.conn.status !== 'ready') return false
    if (this.client.slots[calculateSlot(this.prefix + channel)]?.[0] !== shard.node) return false
    try {
      await bounded(shard.conn.ping(), this.timeout)
      return true
    } catch {
      return false
    }
  }
}
