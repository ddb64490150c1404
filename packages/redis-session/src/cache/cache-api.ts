/** `fastify.cache` settings; every duration in ms. */
export interface CacheOptions {
  /** how long a value lives when `set`/`wrap` give no ttl (default 60000) */
  ttl: number
  /** lifetime of the single-flight lock, renewed while the leader computes (on Redis); a leader silent this long (it died) loses the lead (default 10000) */
  lockTtl: number
  /** how long a follower (in this process or another) waits for the leader's value before calling `fn` itself (default 5000) */
  waitTimeout: number
  /** the most values the embedded cache keeps (default 10000) */
  maxEntries: number
  /** the most bytes of keys and values the embedded cache keeps (default 64 MiB) */
  maxBytes: number
}

export const cacheDefaults: CacheOptions = { ttl: 60_000, lockTtl: 10_000, waitTimeout: 5_000, maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 }

export interface CacheApi {
  /** the value, or undefined on a miss */
  get<T = unknown> (key: string): Promise<T | undefined>
  set (key: string, value: unknown, options?: { ttl?: number }): Promise<void>
  del (key: string): Promise<void>
  /** the cached value, or `fn()`'s, cached; concurrent misses call `fn` once */
  wrap<T> (key: string, fn: () => T | Promise<T>, options?: { ttl?: number }): Promise<T>
}
