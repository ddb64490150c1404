import { EventEmitter } from 'node:events'
import type { FastifyBaseLogger } from 'fastify'
import { StoreUnavailableError } from '../errors.js'
import type { SessionBackend } from './backend.js'

type Callback<T = void> = (err?: Error | null, value?: T) => void

/** The parts of a `@fastify/session` Session the store reads. */
interface SessionLike {
  cookie?: { originalMaxAge?: number | null, expires?: Date | string | null, toJSON?: () => Record<string, unknown> }
  [key: string]: unknown
}

/**
 * On a session loaded from the store: its cookie maxAge and user then. Such a
 * session, unchanged, needs no write, and changed, no new index entry.
 */
const LOADED = Symbol.for('corral.session.loaded')

interface Loaded { value: string, user: string | undefined }

export interface SessionStoreOptions {
  /** ms a session lives when its cookie has no maxAge or expires (default one day) */
  ttl?: number
  /** the session field holding the user id, indexed for `destroyAllFor` (default 'userId') */
  userKey?: string
  /** where unreadable session values are reported */
  log?: Pick<FastifyBaseLogger, 'warn'>
}

export const DEFAULT_TTL = 86_400_000

/**
 * A store for `@fastify/session` over a {@link SessionBackend}. Reads slide
 * the TTL, an unchanged session is never written back, a value that does not
 * parse is no session, and a backend failure is a 503 error, never a silent
 * new session.
 */
export class SessionStore extends EventEmitter {
  readonly ttl: number
  readonly userKey: string
  private readonly log?: Pick<FastifyBaseLogger, 'warn'>
  private readonly indexRefreshed = new Map<string, number>()
  /** the value just read: @fastify/session restores it and the plugin marks it in the same tick */
  private justRead: { id: string, raw: string } | undefined

  constructor (protected readonly backend: SessionBackend, options: SessionStoreOptions = {}) {
    super()
    this.ttl = options.ttl ?? DEFAULT_TTL
    this.userKey = options.userKey ?? 'userId'
    this.log = options.log
  }

  get (id: string, callback: Callback<SessionLike | null>): void {
    this.backend.get(id, this.ttl).then((raw) => {
      const session = raw === null ? null : this.parse(id, raw)
      this.justRead = session === null ? undefined : { id, raw: raw as string }
      callback(null, session)
    }, (err) => callback(unavailable(err)))
  }

  set (id: string, session: SessionLike, callback: Callback): void {
    const ttl = this.ttlOf(session)
    let work: Promise<void>
    if (ttl <= 0) {
      work = this.backend.destroy(id)
    } else {
      const loaded = (session as Record<symbol, Loaded | undefined>)[LOADED]
      const value = serialize(session)
      if (loaded !== undefined && loaded.value === value) {
        // the read already slid the TTL; only a session of its own lifetime needs more
        work = ttl === this.ttl ? Promise.resolve() : this.backend.touch(id, ttl)
      } else {
        // the user index changes only when the user does
        const user = this.userOf(session)
        work = this.backend.set(id, value, ttl, loaded?.user === user ? undefined : user)
      }
    }
    work.then(() => callback(), (err) => callback(unavailable(err)))
  }

  destroy (id: string, callback: Callback): void {
    this.backend.destroy(id).then(() => callback(), (err) => callback(unavailable(err)))
  }

  /** Resets the session's TTL without rewriting it. */
  touch (id: string, session: SessionLike, callback: Callback): void {
    this.backend.touch(id, this.ttlOf(session)).then(() => callback(), (err) => callback(unavailable(err)))
  }

  /** Removes every session of `user`, on every worker and machine: "log out everywhere". */
  async destroyAllFor (user: string | number): Promise<number> {
    try {
      return await this.backend.destroyAll(String(user))
    } catch (err) {
      throw unavailable(err)
    }
  }

  private parse (id: string, raw: string): SessionLike | null {
    let value: unknown
    try {
      value = JSON.parse(raw)
    } catch {
      value = undefined
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      // the id is a secret (it is the cookie): log only a hint of it
      this.log?.warn({ session: id.slice(0, 6) }, 'session value does not parse: treated as no session')
      return null
    }
    const session = value as SessionLike
    const cookie = session.cookie
    // with a maxAge, the store's TTL is the clock: a session alive in the store is not expired
    if (cookie !== undefined && cookie !== null && typeof cookie === 'object' && typeof cookie.originalMaxAge === 'number') {
      delete cookie.expires
    }
    const user = this.userOf(session)
    if (user !== undefined) this.keepIndex(user)
    return session
  }

  /** A user's index must outlive their sessions, which slide on every read. */
  private keepIndex (user: string): void {
    const now = Date.now()
    const last = this.indexRefreshed.get(user)
    if (last !== undefined && now - last < this.ttl / 4) return
    if (this.indexRefreshed.size > 10_000) this.indexRefreshed.clear()
    this.indexRefreshed.set(user, now)
    this.backend.keepIndex(user, this.ttl).catch(() => this.indexRefreshed.delete(user))
  }

  /**
   * Called by the plugin on a session @fastify/session restored from this
   * store, so that `set` can skip what did not change.
   */
  markLoaded (restored: object): void {
    const session = restored as SessionLike
    // what was read, if this is its session (we wrote it, so an unchanged session serializes to it);
    // else serialize now
    const read = this.justRead
    this.justRead = undefined
    const value = read !== undefined && read.id === session.sessionId ? read.raw : serialize(session)
    const loaded: Loaded = { value, user: this.userOf(session) }
    ;(session as Record<symbol, Loaded>)[LOADED] = loaded
  }

  private userOf (session: SessionLike): string | undefined {
    const user = session[this.userKey]
    return typeof user === 'string' || typeof user === 'number' ? String(user) : undefined
  }

  private ttlOf (session: SessionLike): number {
    const cookie = session.cookie
    if (typeof cookie?.originalMaxAge === 'number') return cookie.originalMaxAge
    if (cookie?.expires !== undefined && cookie.expires !== null) return new Date(cookie.expires).getTime() - Date.now()
    return this.ttl
  }
}

/**
 * The session as stored: JSON, without the cookie's expiry when it has a
 * maxAge (the store's TTL is then the clock). Deterministic, so an unchanged
 * session serializes to what was loaded: one native stringify to tell,
 * where @fastify/session's isModified() hashes a stable stringify.
 */
function serialize (session: SessionLike): string {
  const cookie = session.cookie
  if (cookie === undefined || cookie === null || typeof cookie.toJSON !== 'function') return JSON.stringify(session)
  const plain = cookie.toJSON()
  // undefined, not delete: JSON leaves it out, and the object keeps its fast shape
  if (typeof plain.originalMaxAge === 'number') plain.expires = undefined
  session.cookie = plain
  try {
    return JSON.stringify(session)
  } finally {
    session.cookie = cookie
  }
}

function unavailable (err: unknown): Error {
  const reason = err instanceof Error ? err.message : String(err)
  return new StoreUnavailableError(reason)
}
