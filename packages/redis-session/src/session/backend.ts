/**
 * Where session values live: Redis, a map in this process, or a map in the
 * cluster-boot primary. Values are JSON strings; TTLs are ms. Every read
 * slides the TTL (Redis GETEX), so an unchanged session costs one command per
 * request and is never written back.
 */
export interface SessionBackend {
  /** the value, its TTL reset to `ttl`; null when absent or expired */
  get (id: string, ttl: number): Promise<string | null>
  /** writes the value; with `user`, also indexes the session under that user (until the session goes) */
  set (id: string, value: string, ttl: number, user?: string): Promise<void>
  /** resets the TTL without rewriting the value */
  touch (id: string, ttl: number): Promise<void>
  destroy (id: string): Promise<void>
  /** removes every session indexed under `user`; resolves with how many existed */
  destroyAll (user: string): Promise<number>
  /** keeps the user's index alive at least `ttl` more (its sessions slide on reads) */
  keepIndex (user: string, ttl: number): Promise<void>
}
