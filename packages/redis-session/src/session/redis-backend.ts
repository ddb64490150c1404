import type { RedisClient } from '../redis-client.js'
import type { SessionBackend, WriteMode } from './backend.js'

/**
 * Adds ARGV[2] (if any) to the index KEYS[1] and extends its TTL to at least
 * ARGV[1] ms, never shortens it: the index must outlive every session it lists,
 * whatever each one's lifetime. One key, so it runs in any Redis Cluster slot.
 * Returns the number of members added (0 or 1).
 */
const INDEX = `local added = 0
if ARGV[2] then added = redis.call('sadd', KEYS[1], ARGV[2]) end
local left = redis.call('pttl', KEYS[1])
if left ~= -2 and left < tonumber(ARGV[1]) then redis.call('pexpire', KEYS[1], ARGV[1]) end
return added`

/** The index lives this much longer than the longest session it was extended for. */
export const INDEX_SLACK = 1.25

/**
 * Sessions in Redis: `<prefix>sess:<id>` holds the JSON with a PX TTL,
 * `<prefix>user:<user>` the set of a user's session ids. Commands that touch
 * both never run as one multi-key command, so keys may sit in different
 * Redis Cluster slots.
 *
 * Invariant: a session key that exists is listed in its user's index. A new
 * session is indexed as it is written; an update is `SET XX`, so a session
 * deleted meanwhile stays deleted; `destroyAll` deletes the keys before it
 * removes exactly those ids from the index (a login racing it keeps its entry).
 */
export class RedisSessionBackend implements SessionBackend {
  constructor (private readonly client: RedisClient, private readonly prefix: string) {}

  private key (id: string): string { return `${this.prefix}sess:${id}` }
  private index (user: string): string { return `${this.prefix}user:${user}` }

  async get (id: string, ttl: number): Promise<string | null> {
    return await this.client.getex(this.key(id), 'PX', ttl)
  }

  async set (id: string, value: string, ttl: number, mode: WriteMode, user?: string): Promise<boolean> {
    if (mode === 'update') {
      const stored = await this.client.set(this.key(id), value, 'PX', ttl, 'XX')
      if (stored === null) return false
      if (user !== undefined) await this.indexAdd(user, id, ttl)
      return true
    }
    if (user === undefined) {
      await this.client.set(this.key(id), value, 'PX', ttl)
      return true
    }
    const [, added] = await Promise.all([
      this.client.set(this.key(id), value, 'PX', ttl),
      this.indexAdd(user, id, ttl)
    ])
    // a new member is a login: the time to forget sessions that expired since
    if (added === 1) await this.prune(this.index(user), id)
    return true
  }

  private async indexAdd (user: string, id: string, ttl: number): Promise<number> {
    return await this.client.eval(INDEX, 1, this.index(user), Math.ceil(ttl * INDEX_SLACK), id) as number
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
    if (ids.length === 0) return 0
    // one DEL per key: in a Redis Cluster the sessions live in different slots
    const removed = await Promise.all(ids.map((id) => this.client.del(this.key(id))))
    await this.client.srem(index, ...ids)
    return removed.reduce((sum, n) => sum + n, 0)
  }

  async keepIndex (user: string, id: string, ttl: number): Promise<void> {
    await this.indexAdd(user, id, ttl)
  }
}
