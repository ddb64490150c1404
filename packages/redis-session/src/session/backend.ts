/**
 * How a write treats a missing session: 'create' writes a brand-new session;
 * 'update' rewrites one loaded earlier and does nothing when it is gone (it
 * was destroyed meanwhile: a revoked session is never recreated).
 */
export type WriteMode = 'create' | 'update'

/**
 * Where session values live: Redis, a map in this process, or a map in the
 * cluster-boot primary. Values are JSON strings; TTLs are ms. Every read
 * slides the TTL (Redis GETEX), so an unchanged session costs one command per
 * request and is never written back.
 */
export interface SessionBackend {
  /** the value, its TTL reset to `ttl`; null when absent or expired */
  get (id: string, ttl: number): Promise<string | null>
  /**
   * Writes the value; with `user`, also indexes the session under that user
   * (until the session goes). Resolves false when an update found no session.
   */
  set (id: string, value: string, ttl: number, mode: WriteMode, user?: string): Promise<boolean>
  /** resets the TTL without rewriting the value; nothing when the session is gone */
  touch (id: string, ttl: number): Promise<void>
  destroy (id: string): Promise<void>
  /** removes every session indexed under `user`; resolves with how many existed */
  destroyAll (user: string): Promise<number>
  /** keeps `id` in the user's index, and the index alive at least `ttl` more (its sessions slide on reads) */
  keepIndex (user: string, id: string, ttl: number): Promise<void>
}
