import { bounded } from '../redis/bounded.js'
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

/** ids checked at once when a login forgets a user's expired sessions */
const PRUNE_BATCH = 200

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
 * An id enters the index only once its key is written: on a Cluster the two
 * live on different masters, and another login's pruning must never see an
 * indexed id whose key is still on its way.
 *
 * With `timeout`, each command is bounded (whatever the client's options), not
 * each method: a write of two commands that both succeed is never a 503
 * because together they took longer than one command may.
 */
export class RedisSessionBackend implements SessionBackend {
  constructor (private readonly client: RedisClient, private readonly prefix: string, private readonly timeout?: number) {}

  private run<T> (command: Promise<T>): Promise<T> {
    return this.timeout === undefined ? command : bounded(command, this.timeout)
  }

  private key (id: string): string { return `${this.prefix}sess:${id}` }
  private index (user: string): string { return `${this.prefix}user:${user}` }

  get (id: string, ttl: number): Promise<string | null> {
    return this.run(this.client.getex(this.key(id), 'PX', ttl))
  }

  set (id: string, value: string, ttl: number, mode: WriteMode, user?: string): Promise<boolean> {
    if (mode === 'update') {
      // the common write, an update by the same user: one command, no async frame
      const stored = this.run(this.client.set(this.key(id), value, 'PX', ttl, 'XX'))
      if (user === undefined) return stored.then((ok) => ok !== null)
      return stored.then(async (ok) => {
        if (ok === null) return false
        await this.indexAdd(user, id, ttl)
        return true
      })
    }
    return this.create(id, value, ttl, user)
  }

  private async create (id: string, value: string, ttl: number, user?: string): Promise<boolean> {
    // the key first, then its index entry (see the invariant above)
    await this.run(this.client.set(this.key(id), value, 'PX', ttl))
    if (user === undefined) return true
    const added = await this.indexAdd(user, id, ttl)
    // a new member is a login: the time to forget sessions that expired since.
    // Not the login's work: its answer never waits for it, nor fails with it
    if (added === 1) this.prune(this.index(user), id).catch(() => {})
    return true
  }

  private async indexAdd (user: string, id: string, ttl: number): Promise<number> {
    return await this.run(this.client.eval(INDEX, 1, this.index(user), Math.ceil(ttl * INDEX_SLACK), id)) as number
  }

  private async prune (index: string, current: string): Promise<void> {
    const ids = (await this.client.smembers(index)).filter((id) => id !== current)
    // in batches: a user with thousands of stale entries never floods the connection
    for (let at = 0; at < ids.length; at += PRUNE_BATCH) {
      const batch = ids.slice(at, at + PRUNE_BATCH)
      const alive = await Promise.all(batch.map(async (id) => await this.client.exists(this.key(id))))
      const dead = batch.filter((_id, i) => alive[i] === 0)
      if (dead.length > 0) await this.client.srem(index, ...dead)
    }
  }

  async touch (id: string, ttl: number): Promise<void> {
    await this.run(this.client.pexpire(this.key(id), ttl))
  }

  async destroy (id: string): Promise<void> {
    await this.run(this.client.del(this.key(id)))
  }

  async destroyAll (user: string): Promise<number> {
    const index = this.index(user)
    const ids = await this.run(this.client.smembers(index))
    if (ids.length === 0) return 0
    // one DEL per key: in a Redis Cluster the sessions live in different slots
    const removed = await Promise.all(ids.map(async (id) => await this.run(this.client.del(this.key(id)))))
    await this.run(this.client.srem(index, ...ids))
    return removed.reduce((sum, n) => sum + n, 0)
  }

  async keepIndex (user: string, id: string, ttl: number): Promise<void> {
    await this.indexAdd(user, id, ttl)
  }
}
