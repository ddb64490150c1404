import type { SessionBackend } from './backend.js'

interface Entry { value: string, expires: number, user?: string }

export interface MemoryBackendOptions {
  /** the most sessions kept; the least recently used go first */
  maxSessions: number
  /** ms between sweeps of expired sessions */
  sweepInterval?: number
}

/**
 * Sessions in a Map: in a single process, or hosted by the cluster-boot
 * primary for all its workers. Bounded (least recently used evicted first)
 * and swept, so abandoned sessions do not grow the process forever.
 */
export class MemorySessionBackend implements SessionBackend {
  private readonly entries = new Map<string, Entry>()
  private readonly users = new Map<string, Set<string>>()
  private readonly sweeper: NodeJS.Timeout
  private readonly maxSessions: number

  constructor (options: MemoryBackendOptions) {
    this.maxSessions = options.maxSessions
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

  async set (id: string, value: string, ttl: number, user?: string): Promise<void> {
    // like a Redis set, an index entry stays until the session goes
    user ??= this.entries.get(id)?.user
    this.remove(id)
    this.entries.set(id, { value, expires: Date.now() + ttl, user })
    if (user !== undefined) {
      let ids = this.users.get(user)
      if (ids === undefined) this.users.set(user, ids = new Set())
      ids.add(id)
    }
    while (this.entries.size > this.maxSessions) {
      this.remove(this.entries.keys().next().value as string)
    }
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
