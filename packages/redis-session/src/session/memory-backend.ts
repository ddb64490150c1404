import type { FastifyBaseLogger } from 'fastify'
import { ByteBoundedMap } from '../byte-bounded-map.js'
import type { SessionBackend, WriteMode } from './backend.js'

interface Entry { value: string, expires: number, user?: string }

export interface MemoryBackendOptions {
  /** the most sessions kept; the least recently used go first */
  maxSessions: number
  /** the most bytes of ids and values kept (strings counted at 2 bytes a character, as V8 may hold them) */
  maxBytes?: number
  /** ms between sweeps of expired sessions */
  sweepInterval?: number
  /** told once when eviction starts: evicted sessions are logged-out users */
  log?: Pick<FastifyBaseLogger, 'warn'>
}

export const DEFAULT_MAX_SESSION_BYTES = 128 * 1024 * 1024

/** Counters a metrics endpoint can read. */
export interface EmbeddedStats {
  /** entries held now */
  readonly size: number
  /** bytes held now (approximate) */
  readonly bytes: number
  readonly maxBytes: number
  /** entries removed to stay within the bounds, since start */
  readonly evictions: number
}

/**
 * Sessions in a Map: in a single process, or hosted by the cluster-boot
 * primary for all its workers. Bounded by count and by bytes (least recently
 * used evicted first, counted, logged once) and swept, so abandoned or huge
 * sessions do not grow the process forever.
 */
export class MemorySessionBackend implements SessionBackend, EmbeddedStats {
  private readonly entries: ByteBoundedMap<Entry>
  private readonly users = new Map<string, Set<string>>()
  private readonly sweeper: NodeJS.Timeout

  constructor (options: MemoryBackendOptions) {
    this.entries = new ByteBoundedMap<Entry>({
      maxEntries: options.maxSessions,
      maxBytes: options.maxBytes ?? DEFAULT_MAX_SESSION_BYTES,
      log: options.log,
      full: 'embedded session store full: evicting the least recently used sessions (their users are logged out)',
      // the user index follows the map, whatever removes an entry
      onRemove: (id, entry) => { this.unindex(id, entry.user) }
    })
    this.sweeper = setInterval(() => this.sweep(), options.sweepInterval ?? 60_000)
    this.sweeper.unref()
  }

  get size (): number { return this.entries.size }
  get maxBytes (): number { return this.entries.maxBytes }
  get bytes (): number { return this.entries.bytes }
  get evictions (): number { return this.entries.evictions }

  async get (id: string, ttl: number): Promise<string | null> {
    const entry = this.entries.use(id)
    if (entry === undefined) return null
    entry.expires = Date.now() + ttl
    return entry.value
  }

  async set (id: string, value: string, ttl: number, mode: WriteMode, user?: string): Promise<boolean> {
    const existing = this.entries.live(id)
    // destroyed since it was loaded: stays destroyed
    if (mode === 'update' && existing === undefined) return false
    // like a Redis set, an index entry stays until the session goes
    user ??= existing?.user
    this.entries.delete(id)
    // indexed before it is stored: storing may evict it at once, and the eviction unindexes it
    if (user !== undefined) {
      let ids = this.users.get(user)
      if (ids === undefined) this.users.set(user, ids = new Set())
      ids.add(id)
    }
    this.entries.set(id, { value, expires: Date.now() + ttl, user }, value.length)
    return true
  }

  async touch (id: string, ttl: number): Promise<void> {
    const entry = this.entries.live(id)
    if (entry !== undefined) entry.expires = Date.now() + ttl
  }

  async destroy (id: string): Promise<void> {
    this.entries.delete(id)
  }

  async destroyAll (user: string): Promise<number> {
    const ids = [...this.users.get(user) ?? []]
    for (const id of ids) this.entries.delete(id)
    return ids.length
  }

  // entries leave the index when they leave the map: nothing to keep alive
  async keepIndex (): Promise<void> {}

  close (): void {
    clearInterval(this.sweeper)
    this.entries.clear()
    this.users.clear()
  }

  private sweep (): void {
    this.entries.sweep()
  }

  /** Called as the map lets `id` go: the id leaves its user's index. */
  private unindex (id: string, user: string | undefined): void {
    if (user === undefined) return
    const ids = this.users.get(user)
    ids?.delete(id)
    if (ids?.size === 0) this.users.delete(user)
  }
}
