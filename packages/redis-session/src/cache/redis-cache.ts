import { createHash, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import { CacheUnavailableError, InvalidCacheKeyError, reason } from '../errors.js'
import { bounded } from '../redis/bounded.js'
import type { RedisClient } from '../redis-client.js'
import type { CacheApi, CacheOptions } from './cache-api.js'
import { SingleFlight } from './single-flight.js'
import { parseCached } from './parse-cached.js'

// deletes the lock only if it is still ours: a leader that outlived its lock must not free another's
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
// renews the lock while the leader computes, if it is still ours
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
// stores the leader's value only if its lock is still there: a `del` (which
// removes the lock too) during the computation is not undone by its result
const STORE = "if redis.call('get', KEYS[2]) == ARGV[1] then redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 else return 0 end"
const FIRST_POLL_MS = 5
const MAX_POLL_MS = 100

/**
 * JSON values in Redis under `<prefix>{key}`. `wrap` is single-flight in the
 * process (one promise per key) and across processes and machines (a
 * `SET NX PX` lock at `<prefix>{key}:lock`, in the key's Cluster slot by its
 * hash tag, renewed every `lockTtl` / 3 while the leader computes);
 * followers wait for the leader's value, at most `waitTimeout`.
 */
export class RedisCache implements CacheApi {
  private readonly flight: SingleFlight
  private down = false

  constructor (
    private readonly client: RedisClient,
    private readonly prefix: string,
    private readonly options: CacheOptions,
    private readonly log: FastifyBaseLogger,
    /** each command's bound in ms, whatever the client's options */
    private readonly timeout: number
  ) {
    this.flight = new SingleFlight(options.waitTimeout)
  }

  /**
   * The key's whole name is its hash tag, so the value and its lock share a
   * Cluster slot. A brace inside would end the tag early (or make it none:
   * CROSSSLOT between value and lock), so such a key is tagged by its SHA-1,
   * and marked `:h` after the tag: it never meets a plain key's name.
   */
  private key (key: string): string {
    if (typeof key !== 'string' || key.length === 0) throw new InvalidCacheKeyError('a cache key must be a non-empty string')
    if (!key.includes('{') && !key.includes('}')) return `${this.prefix}{${key}}`
    return `${this.prefix}{${createHash('sha1').update(key).digest('hex')}}:h`
  }

  async get<T = unknown> (key: string): Promise<T | undefined> {
    const name = this.key(key)
    return this.parse<T>(key, await this.command(() => this.client.get(name)))
  }

  async set (key: string, value: unknown, options?: { ttl?: number }): Promise<void> {
    const name = this.key(key)
    const json = JSON.stringify(value)
    if (json === undefined) return
    await this.command(() => this.client.set(name, json, 'PX', options?.ttl ?? this.options.ttl))
  }

  /** Deletes the value and any leader's lock (one slot by the hash tag): a computation under way does not store its result. */
  async del (key: string): Promise<void> {
    const name = this.key(key)
    await this.command(() => this.client.del(name, `${name}:lock`))
  }

  async wrap<T> (key: string, fn: () => T | Promise<T>, options?: { ttl?: number }): Promise<T> {
    this.key(key)
    return await this.flight.run(key, async () => {
      try {
        return await this.lead(key, fn, options?.ttl ?? this.options.ttl)
      } catch (err) {
        if (!(err instanceof CacheUnavailableError)) throw err
        // Redis is down: the origin still answers, uncached
        return await fn()
      }
    }, fn)
  }

  private async lead<T> (key: string, fn: () => T | Promise<T>, ttl: number): Promise<T> {
    const valueKey = this.key(key)
    const lockKey = `${valueKey}:lock`
    const deadline = Date.now() + this.options.waitTimeout
    let poll = FIRST_POLL_MS
    for (;;) {
      const hit = this.parse<T>(key, await this.command(() => this.client.get(valueKey)))
      if (hit !== undefined) return hit
      const token = randomUUID()
      const locked = await this.command(() => this.client.set(lockKey, token, 'PX', this.options.lockTtl, 'NX'))
      if (locked === 'OK') {
        const renew = setInterval(() => {
          this.client.eval(RENEW, 1, lockKey, token, this.options.lockTtl).catch(() => {})
        }, Math.max(1, Math.floor(this.options.lockTtl / 3)))
        renew.unref()
        try {
          const value = await fn()
          const json = JSON.stringify(value)
          // the caller has its value even if it cannot be stored
          if (json !== undefined) await this.command(() => this.client.eval(STORE, 2, valueKey, lockKey, token, json, ttl)).catch(() => {})
          return value
        } finally {
          clearInterval(renew)
          // not awaited: the caller has its value; a lock left behind expires after lockTtl
          this.client.eval(RELEASE, 1, lockKey, token).catch(() => {})
        }
      }
      // another process leads: wait for its value, or for its lock to go (it failed or died)
      if (Date.now() >= deadline) return await fn()
      await sleep(poll)
      poll = Math.min(poll * 2, MAX_POLL_MS)
    }
  }

  private parse<T> (key: string, json: string | null): T | undefined {
    return json === null ? undefined : parseCached<T>(key, json, this.log)
  }

  /**
   * Runs a Redis command, bounded by the timeout whatever the client's
   * options; an outage becomes CacheUnavailableError, logged once until Redis
   * answers again.
   */
  private async command<R> (run: () => Promise<R>): Promise<R> {
    try {
      const result = await bounded(run(), this.timeout)
      if (this.down) {
        this.down = false
        this.log.info('cache: Redis answers again')
      }
      return result
    } catch (err) {
      if (!this.down) {
        this.down = true
        this.log.warn({ err: { message: (err as Error).message } }, 'cache: Redis unavailable, calling origins directly')
      }
      throw new CacheUnavailableError(reason(err))
    }
  }
}
