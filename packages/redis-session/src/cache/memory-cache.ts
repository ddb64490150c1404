import type { FastifyBaseLogger } from 'fastify'
import { ByteBoundedMap } from '../byte-bounded-map.js'
import type { EmbeddedStats } from '../session/memory-backend.js'
import { parseCached } from './parse-cached.js'
import type { CacheApi, CacheOptions } from './cache-api.js'
import { SingleFlight } from './single-flight.js'

interface Entry { json: string, expires: number }

/**
 * Values as JSON strings in a Map, bounded by `maxEntries` and `maxBytes`
 * (least recently used first out, counted, logged once): the cache of a
 * single process, and the store the primary keeps for its workers. JSON, so
 * a caller never shares an object with another.
 */
export class MemoryCache implements CacheApi, EmbeddedStats {
  private readonly entries: ByteBoundedMap<Entry>
  private readonly flight: SingleFlight
  /** keys deleted while `wrap` computed them: that computation's value is not stored */
  private readonly deleted = new Set<string>()
  constructor (private readonly options: CacheOptions, private readonly log?: Pick<FastifyBaseLogger, 'warn'>) {
    this.flight = new SingleFlight(options.waitTimeout)
    this.entries = new ByteBoundedMap<Entry>({
      maxEntries: options.maxEntries,
      maxBytes: options.maxBytes,
      log,
      full: 'embedded cache full: evicting the least recently used values'
    })
  }

  get size (): number { return this.entries.size }
  get maxBytes (): number { return this.entries.maxBytes }
  get bytes (): number { return this.entries.bytes }
  get evictions (): number { return this.entries.evictions }

  /** The stored JSON, or undefined. */
  raw (key: string): string | undefined {
    return this.entries.use(key)?.json
  }

  setRaw (key: string, json: string, ttl = this.options.ttl): void {
    this.entries.set(key, { json, expires: Date.now() + ttl }, json.length)
  }

  async get<T = unknown> (key: string): Promise<T | undefined> {
    return this.parse<T>(key, this.raw(key))
  }

  async set (key: string, value: unknown, options?: { ttl?: number }): Promise<void> {
    const json = JSON.stringify(value)
    if (json !== undefined) this.setRaw(key, json, options?.ttl)
  }

  async del (key: string): Promise<void> {
    if (this.flight.has(key)) this.deleted.add(key)
    this.entries.delete(key)
  }

  async wrap<T> (key: string, fn: () => T | Promise<T>, options?: { ttl?: number }): Promise<T> {
    const hit = this.parse<T>(key, this.raw(key))
    if (hit !== undefined) return hit
    return await this.flight.run(key, async () => {
      this.deleted.delete(key)
      const value = await fn()
      if (!this.deleted.delete(key)) await this.set(key, value, options)
      return value
    }, fn)
  }

  close (): void {
    this.entries.clear()
  }

  private parse<T> (key: string, json: string | undefined): T | undefined {
    if (json === undefined) return undefined
    const value = parseCached<T>(key, json, this.log)
    if (value === undefined) this.entries.delete(key)
    return value
  }
}
