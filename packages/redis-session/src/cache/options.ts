/** `fastify.cache` settings; every duration in ms. */
export interface CacheOptions {
  /** how long a value lives when `set`/`wrap` give no ttl (default 60000) */
  ttl: number
  /** lifetime of the single-flight lock: the longest a leader may take before others may lead (default 10000) */
  lockTtl: number
  /** how long a follower waits for the leader's value before calling `fn` itself (default 5000) */
  waitTimeout: number
  /** the most values the embedded cache keeps (default 10000) */
  maxEntries: number
}

export const cacheDefaults: CacheOptions = { ttl: 60_000, lockTtl: 10_000, waitTimeout: 5_000, maxEntries: 10_000 }

export interface CacheApi {
  /** the value, or undefined on a miss */
  get<T = unknown> (key: string): Promise<T | undefined>
  set (key: string, value: unknown, options?: { ttl?: number }): Promise<void>
  del (key: string): Promise<void>
  /** the cached value, or `fn()`'s, cached; concurrent misses call `fn` once */
  wrap<T> (key: string, fn: () => T | Promise<T>, options?: { ttl?: number }): Promise<T>
}
