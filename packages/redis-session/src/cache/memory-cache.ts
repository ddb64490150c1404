import type { CacheApi, CacheOptions } from './options.js'
import { SingleFlight } from './single-flight.js'

interface Entry { json: string, expires: number }

/**
 * Values as JSON strings in a Map, bounded by `maxEntries` (least recently
 * used first out): the cache of a single process, and the store the primary
 * keeps for its workers. JSON, so a caller never shares an object with another.
 */
export class MemoryCache implements CacheApi {
  private readonly entries = new Map<string, Entry>()
  private readonly flight = new SingleFlight()

  constructor (private readonly options: CacheOptions) {}

  get size (): number { return this.entries.size }

  /** The stored JSON, or undefined. */
  raw (key: string): string | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expires <= Date.now()) {
      this.entries.delete(key)
      return undefined
    }
    this.entries.delete(key)
    this.entries.set(key, entry)
    return entry.json
  }

  setRaw (key: string, json: string, ttl = this.options.ttl): void {
    this.entries.delete(key)
    this.entries.set(key, { json, expires: Date.now() + ttl })
    while (this.entries.size > this.options.maxEntries) this.entries.delete(this.entries.keys().next().value as string)
  }

  async get<T = unknown> (key: string): Promise<T | undefined> {
    const json = this.raw(key)
    return json === undefined ? undefined : JSON.parse(json) as T
  }

  async set (key: string, value: unknown, options?: { ttl?: number }): Promise<void> {
    const json = JSON.stringify(value)
    if (json !== undefined) this.setRaw(key, json, options?.ttl)
  }

  async del (key: string): Promise<void> {
    this.entries.delete(key)
  }

  async wrap<T> (key: string, fn: () => T | Promise<T>, options?: { ttl?: number }): Promise<T> {
    const hit = this.raw(key)
    if (hit !== undefined) return JSON.parse(hit) as T
    return await this.flight.run(key, async () => {
      const value = await fn()
      await this.set(key, value, options)
      return value
    })
  }

  close (): void {
    this.entries.clear()
  }
}
