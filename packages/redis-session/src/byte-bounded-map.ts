import type { FastifyBaseLogger } from 'fastify'

/** what a Map entry and its object cost beyond the strings, roughly */
const ENTRY_OVERHEAD = 100

/** An entry's own fields; the map adds its size. */
export interface Expiring { expires: number }

export interface ByteBounds<E> {
  /** the most entries kept */
  maxEntries: number
  /** the most bytes of keys and strings kept (2 bytes a character, as V8 may hold them) */
  maxBytes: number
  /** told once, when eviction starts: what an evicted entry means for users */
  log?: Pick<FastifyBaseLogger, 'warn'>
  full: string
  /** called on every entry that leaves (deleted, expired, evicted; not on clear) */
  onRemove?: (key: string, entry: E) => void
}

/**
 * Entries in a Map bounded by count and by bytes, least recently used out
 * first, counted and logged once, expired entries dropped when met: what the
 * embedded session store and the embedded cache share.
 */
export class ByteBoundedMap<E extends Expiring> {
  private readonly entries = new Map<string, { entry: E, bytes: number }>()
  bytes = 0
  evictions = 0

  constructor (private readonly bounds: ByteBounds<E>) {}

  get size (): number { return this.entries.size }
  get maxBytes (): number { return this.bounds.maxBytes }

  /** The live entry, or undefined (an expired one is removed); its recency unchanged. */
  live (key: string): E | undefined {
    const held = this.entries.get(key)
    if (held === undefined) return undefined
    if (held.entry.expires > Date.now()) return held.entry
    this.delete(key)
    return undefined
  }

  /** The live entry, made the most recently used. */
  use (key: string): E | undefined {
    const entry = this.live(key)
    if (entry === undefined) return undefined
    const held = this.entries.get(key) as { entry: E, bytes: number }
    this.entries.delete(key)
    this.entries.set(key, held)
    return entry
  }

  /** Stores `entry` (replacing any), sized by `chars` characters of content, then evicts past the bounds. */
  set (key: string, entry: E, chars: number): void {
    this.delete(key)
    const bytes = 2 * (key.length + chars) + ENTRY_OVERHEAD
    this.entries.set(key, { entry, bytes })
    this.bytes += bytes
    while (this.entries.size > this.bounds.maxEntries || this.bytes > this.bounds.maxBytes) {
      if (this.evictions === 0) {
        this.bounds.log?.warn({ maxEntries: this.bounds.maxEntries, maxBytes: this.bounds.maxBytes }, this.bounds.full)
      }
      this.evictions++
      this.delete(this.entries.keys().next().value as string)
    }
  }

  delete (key: string): void {
    const held = this.entries.get(key)
    if (held === undefined) return
    this.entries.delete(key)
    this.bytes -= held.bytes
    this.bounds.onRemove?.(key, held.entry)
  }

  /** Removes every expired entry. */
  sweep (): void {
    const now = Date.now()
    for (const [key, held] of this.entries) if (held.entry.expires <= now) this.delete(key)
  }

  clear (): void {
    this.entries.clear()
    this.bytes = 0
  }
}
