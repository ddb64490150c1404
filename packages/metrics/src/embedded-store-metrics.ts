import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, type Registry } from 'prom-client'

/** What `@corral/redis-session`'s primary side decorates the admin instance with (`admin.embeddedStore`). */
interface EmbeddedPart { readonly size: number, readonly bytes: number, readonly evictions: number }
type EmbeddedStore = Partial<Record<'sessions' | 'cache', EmbeddedPart>>

const PARTS = ['sessions', 'cache'] as const

/**
 * The embedded store's size, bytes and evictions, read at scrape time from
 * the decorator `@corral/redis-session` leaves on the admin instance (it may
 * be registered after this plugin, or not at all): an eviction logs a user
 * out, so it must be seen.
 */
export function embeddedStoreMetrics (registry: Registry, admin: FastifyInstance): void {
  const read = (fn: (part: EmbeddedPart) => number): Array<[string, number]> => {
    const store = (admin as FastifyInstance & { embeddedStore?: EmbeddedStore }).embeddedStore
    if (store === undefined) return []
    return PARTS.flatMap((kind) => store[kind] === undefined ? [] : [[kind, fn(store[kind])] as [string, number]])
  }
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'corral_embedded_store_entries',
    help: 'Entries the primary holds for its workers, by kind (sessions, cache).',
    labelNames: ['kind'],
    registers: [registry],
    collect () { for (const [kind, n] of read((p) => p.size)) this.set({ kind }, n) }
  })
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'corral_embedded_store_bytes',
    help: 'Bytes (approximate) the primary holds for its workers, by kind.',
    labelNames: ['kind'],
    registers: [registry],
    collect () { for (const [kind, n] of read((p) => p.bytes)) this.set({ kind }, n) }
  })
  // eslint-disable-next-line no-new
  new Counter({
    name: 'corral_embedded_store_evictions_total',
    help: 'Entries evicted to stay within the embedded store bounds, by kind: each evicted session is a user logged out.',
    labelNames: ['kind'],
    registers: [registry],
    collect () {
      this.reset()
      for (const [kind, n] of read((p) => p.evictions)) this.inc({ kind }, n)
    }
  })
}
