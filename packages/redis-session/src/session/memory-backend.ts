import type { FastifyBaseLogger } from 'fastify'
import type { SessionBackend, WriteMode } from './backend.js'

interface Entry { value: string, expires: number, user?: string, bytes: number }

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
/** what a Map entry and its object cost beyond the strings, roughly */
const ENTRY_OVERHEAD = 100

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
  private readonly entries = new Map<string, Entry>()
  private readonly users = new Map<string, Set<string>>()
  private readonly sweeper: NodeJS.Timeout
  private readonly maxSessions: number
  readonly maxBytes: number
  private readonly log?: Pick<FastifyBaseLogger, 'warn'>
  bytes = 0
  evictions = 0

  constructor (options: MemoryBackendOptions) {
    this.maxSessions = options.maxSessions
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_SESSION_BYTES
    this.log = options.log
    this.sweeper = setInterval(() => this.sweep(), options.sweepInterval ?? 60_000)
    this.sweeper.unref()
  }

  get size (): number { return this.entries.size }

  async get (id: string, ttl: number): Promise<string | null> {
    const entry = this.live(id)
    if (entry === undefined) return null
    entry.expires = Date.now() + ttl
    this.entries.delete(id)
    this.entries.set(id, entry)
    return entry.value
  }

  async set (id: string, value: string, ttl: number, mode: WriteMode, user?: string): Promise<boolean> {
    const existing = this.live(id)
    // destroyed since it was loaded: stays destroyed
    if (mode === 'update' && existing === undefined) return false
    // like a Redis set, an index entry stays until the session goes
    user ??= existing?.user
    this.remove(id)
    const bytes = 2 * (id.length + value.length) + ENTRY_OVERHEAD
    this.entries.set(id, { value, expires: Date.now() + ttl, user, bytes })
    this.bytes += bytes
    if (user !== undefined) {
      let ids = this.users.get(user)
      if (ids === undefined) this.users.set(user, ids = new Set())
      ids.add(id)
    }
    while (this.entries.size > this.maxSessions || this.bytes > this.maxBytes) {
      this.evict(this.entries.keys().next().value as string)
    }
    return true
  }

  async touch (id: string, ttl: number): Promise<void> {
    const entry = this.live(id)
    if (entry !== undefined) entry.expires = Date.now() + ttl
  }

  async destroy (id: string): Promise<void> {
    this.remove(id)
  }

  async destroyAll (user: string): Promise<number> {
    const ids = [...this.users.get(user) ?? []]
    for (const id of ids) this.remove(id)
    return ids.length
  }

  // entries leave the index when they leave the map: nothing to keep alive
  async keepIndex (): Promise<void> {}

  close (): void {
    clearInterval(this.sweeper)
    this.entries.clear()
    this.users.clear()
    this.bytes = 0
  }

  private evict (id: string): void {
    if (this.evictions === 0) {
      this.log?.warn({ maxSessions: this.maxSessions, maxBytes: this.maxBytes },
        'embedded session store full: evicting the least recently used sessions (their users are logged out)')
    }
    this.evictions++
    this.remove(id)
  }

  private live (id: string): Entry | undefined {
    const entry = this.entries.get(id)
    if (entry === undefined) return undefined
    if (entry.expires > Date.now()) return entry
    this.remove(id)
    return undefined
  }

  private remove (id: string): void {
    const entry = this.entries.get(id)
    if (entry === undefined) return
    this.entries.delete(id)
    this.bytes -= entry.bytes
    if (entry.user === undefined) return
    const ids = this.users.get(entry.user)
    ids?.delete(id)
    if (ids?.size === 0) this.users.delete(entry.user)
  }

  private sweep (): void {
    const now = Date.now()
    for (const [id, entry] of this.entries) if (entry.expires <= now) this.remove(id)
  }
}
