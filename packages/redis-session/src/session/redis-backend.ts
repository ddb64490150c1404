import type { RedisClient } from '../redis-client.js'
import type { SessionBackend } from './backend.js'

/**
 * Sessions in Redis: `<prefix>sess:<id>` holds the JSON with a PX TTL,
 * `<prefix>user:<user>` the set of a user's session ids. Commands that touch
 * both never run as one multi-key command, so keys may sit in different
 * Redis Cluster slots.
 */
export class RedisSessionBackend implements SessionBackend {
  constructor (private readonly client: RedisClient, private readonly prefix: string) {}

  private key (id: string): string { return `${this.prefix}sess:${id}` }
  private index (user: string): string { return `${this.prefix}user:${user}` }

  async get (id: string, ttl: number): Promise<string | null> {
    return await this.client.getex(this.key(id), 'PX', ttl)
  }

  async set (id: string, value: string, ttl: number, user?: string): Promise<void> {
    if (user === undefined) {
      await this.client.set(this.key(id), value, 'PX', ttl)
      return
    }
    const index = this.index(user)
    const [, added] = await Promise.all([
      this.client.set(this.key(id), value, 'PX', ttl),
      this.client.sadd(index, id),
      this.client.pexpire(index, ttl)
    ])
    // a new member is a login: the time to forget sessions that expired since
    if (added === 1) await this.prune(index, id)
  }

  private async prune (index: string, current: string): Promise<void> {
    const ids = (await this.client.smembers(index)).filter((id) => id !== current)
    if (ids.length === 0) return
    const alive = await Promise.all(ids.map((id) => this.client.exists(this.key(id))))
    const dead = ids.filter((_id, i) => alive[i] === 0)
    if (dead.length > 0) await this.client.srem(index, ...dead)
  }

  async touch (id: string, ttl: number): Promise<void> {
    await this.client.pexpire(this.key(id), ttl)
  }

  async destroy (id: string): Promise<void> {
    await this.client.del(this.key(id))
  }

  async destroyAll (user: string): Promise<number> {
    const index = this.index(user)
    const ids = await this.client.smembers(index)
    // one DEL per key: in a Redis Cluster the sessions live in different slots
    const removed = await Promise.all(ids.map((id) => this.client.del(this.key(id))))
    await this.client.del(index)
    return removed.reduce((sum, n) => sum + n, 0)
  }

  async keepIndex (user: string, ttl: number): Promise<void> {
    await this.client.pexpire(this.index(user), ttl)
  }
}
