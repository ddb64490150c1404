import type { FastifyBaseLogger } from 'fastify'
import { parseStored } from '../stored-json.js'
import type { EmbeddedStats } from '../session/memory-backend.js'
import type { CacheApi, CacheOptions } from './options.js'
import { SingleFlight } from './single-flight.js'

interface Entry { json: string, expires: number, bytes: number }

/** what a Map entry and its object cost beyond the strings, roughly */
const ENTRY_OVERHEAD = 100

/**
 * Values as JSON strings in a Map, bounded by `maxEntries` and `maxBytes`
 * (least recently used first out, counted, logged once): the cache of a
 * single process, and the store the primary keeps for its workers. JSON, so
 * a caller never shares an object with another.
 */
export class MemoryCache implements CacheApi, EmbeddedStats {
  private readonly entries = new Map<string, Entry>()
  private readonly flight: SingleFlight
  /** keys deleted while `wrap` computed them: that computation's value is not stored */
  private readonly deleted = new Set<string>()
  bytes = 0
  evictions = 0

  constructor (private readonly options: CacheOptions, private readonly log?: Pick<FastifyBaseLogger, 'warn'>) {
    this.flight = new SingleFlight(options.waitTimeout)
  }

  get size (): number { return this.entries.size }
  get maxBytes (): number { return this.options.maxBytes }

  /** The stored JSON, or undefined. */
  raw (key: string): string | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expires <= Date.now()) {
      this.remove(key)
      return undefined
    }
    this.entries.delete(key)
    this.entries.set(key, entry)
    return entry.json
  }

  setRaw (key: string, json: string, ttl = this.options.ttl): void {
    this.remove(key)
    const bytes = 2 * (key.length + json.length) + ENTRY_OVERHEAD
    this.entries.set(key, { json, expires: Date.now() + ttl, bytes })
    this.bytes += bytes
    while (this.entries.size > this.options.maxEntries || this.bytes > this.options.maxBytes) {
      if (this.evictions === 0) {
        this.log?.warn({ maxEntries: this.options.maxEntries, maxBytes: this.options.maxBytes },
          'embedded cache full: evicting the least recently used values')
      }
      this.evictions++
      this.remove(this.entries.keys().next().value as string)
    }
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
    this.remove(key)
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
    this.bytes = 0
  }

  private remove (key: string): void {
    const entry = this.entries.get(key)
    if (entry === undefined) return
    this.entries.delete(key)
    this.bytes -= entry.bytes
  }

  private parse<T> (key: string, json: string | undefined): T | undefined {
    if (json === undefined) return undefined
    const value = parseStored(json)
    if (value === undefined) {
      this.log?.warn({ key }, 'cached value does not parse: treated as a miss')
      this.remove(key)
    }
    return value as T | undefined
  }
}
