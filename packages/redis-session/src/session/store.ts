import { EventEmitter } from 'node:events'
import type { FastifyBaseLogger, Session } from 'fastify'
import { StoreUnavailableError } from '../errors.js'
import { parseStored } from '../stored-json.js'
import type { SessionBackend, WriteMode } from './backend.js'
import { INDEX_SLACK } from './redis-backend.js'

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

/** The session field holding when it was created, with `maxLifetime`. */
export const CREATED_KEY = 'corral.createdAt'

/**
 * Methods of @fastify/session's Session that it or every app calls: a stored
 * value with one of these keys would replace the method when the Session
 * copies it in, and the call would throw. (`sessionId` and
 * `encryptedSessionId` are skipped by the copy; `options` is left to apps
 * that store a field of that name.)
 */
const RESERVED = new Set(['get', 'set', 'touch', 'regenerate', 'destroy', 'reload', 'save', 'isModified', 'isSaved'])

/** ids this store read: a later write of one is an update of an existing session */
const MAX_REMEMBERED = 10_000

export interface SessionStoreOptions {
  /** ms a session lives when its cookie has no maxAge or expires (default one day) */
  ttl?: number
  /** the session field holding the user id, indexed for `destroyAllFor` (default 'userId') */
  userKey?: string
  /** ms after its creation a session is dead, however active (default: no limit) */
  maxLifetime?: number
  /** where unreadable session values and store failures are reported */
  log?: Pick<FastifyBaseLogger, 'warn' | 'error'>
}

export const DEFAULT_TTL = 86_400_000

/**
 * A store for `@fastify/session` over a {@link SessionBackend}. Reads slide
 * the TTL, an unchanged session is never written back, a loaded session is
 * never recreated once deleted, a value that does not parse (or tries to
 * poison a prototype) is no session, and a backend failure is a 503 error,
 * never a silent new session.
 */
export class SessionStore extends EventEmitter {
  readonly ttl: number
  readonly userKey: string
  readonly maxLifetime: number | undefined
  private readonly log?: Pick<FastifyBaseLogger, 'warn' | 'error'>
  /** session id -> until when this process knows its user's index lives */
  private readonly indexUntil = new Map<string, number>()
  private readonly read = new Set<string>()
  /** the value just read: @fastify/session restores it and the plugin marks it in the same tick */
  private justRead: { id: string, raw: string } | undefined
  /** in an outage, already logged */
  private down = false

  constructor (protected readonly backend: SessionBackend, options: SessionStoreOptions = {}) {
    super()
    this.ttl = options.ttl ?? DEFAULT_TTL
    this.userKey = options.userKey ?? 'userId'
    this.maxLifetime = options.maxLifetime
    this.log = options.log
  }

  // typed as @fastify/session's Session: it is what `set` was given, back from JSON
  get (id: string, callback: Callback<Session | null>): void {
    this.deliver(this.backend.get(id, this.ttl).then((raw) => this.restore(id, raw)), callback as Callback<SessionLike | null>)
  }

  private restore (id: string, raw: string | null): SessionLike | null | Promise<SessionLike> {
    const session = raw === null ? null : this.parse(id, raw)
    if (session === null) return null
    this.remember(id)
    const user = this.userOf(session)
    // awaited, but due only every ttl / 4: the index is extended before the request goes on
    const refresh = user === undefined ? undefined : this.keepIndex(user, id, Math.max(this.ttl, this.ttlOf(session)))
    if (refresh === undefined) {
      this.justRead = { id, raw: raw as string }
      return session
    }
    return refresh.then(() => {
      this.justRead = { id, raw: raw as string }
      return session
    })
  }

  // `object`: @fastify/session passes its Session, which has no index signature
  set (id: string, stored: object, callback: Callback): void {
    const session = stored as SessionLike
    let ttl = this.ttlOf(session)
    if (this.maxLifetime !== undefined) {
      if (typeof session[CREATED_KEY] !== 'number') session[CREATED_KEY] = Date.now()
      ttl = Math.min(ttl, (session[CREATED_KEY] as number) + this.maxLifetime - Date.now())
    }
    let work: Promise<unknown>
    if (ttl <= 0) {
      work = this.backend.destroy(id)
    } else {
      const loaded = (session as Record<symbol, Loaded | undefined>)[LOADED]
      const value = serialize(session)
      const user = this.userOf(session)
      if (loaded !== undefined && loaded.value === value) {
        // the read already slid the TTL; only a session of its own lifetime needs more
        work = ttl === this.ttl ? Promise.resolve() : this.backend.touch(id, ttl)
      } else {
        // loaded (or read by this store): it exists, or was destroyed meanwhile and must stay so
        const mode: WriteMode = loaded !== undefined || this.read.has(id) ? 'update' : 'create'
        // the user index changes only when the user does
        work = this.backend.set(id, value, ttl, mode, loaded !== undefined && loaded.user === user ? undefined : user)
      }
      // a lifetime of its own, longer than the store's: the index must follow it
      const refresh = user !== undefined && ttl > this.ttl ? this.keepIndex(user, id, ttl) : undefined
      if (refresh !== undefined) work = Promise.all([work, refresh])
    }
    this.deliver(work.then(() => undefined), callback)
  }

  // an id stays in `read`: a write still under way for it must not recreate it
  destroy (id: string, callback: Callback): void {
    this.deliver(this.backend.destroy(id), callback)
  }

  /** Resets the session's TTL without rewriting it. */
  touch (id: string, session: object, callback: Callback): void {
    this.deliver(this.backend.touch(id, this.ttlOf(session as SessionLike)), callback)
  }

  /** Removes every session of `user`, on every worker and machine: "log out everywhere". */
  async destroyAllFor (user: string | number): Promise<number> {
    try {
      return await this.backend.destroyAll(String(user))
    } catch (err) {
      throw this.unavailable(err)
    }
  }

  /**
   * Hands the outcome to @fastify/session's callback outside the promise
   * chain's reach: a callback that throws is logged, never an unhandled
   * rejection that would take the worker down.
   */
  private deliver<T> (work: Promise<T>, callback: Callback<T>): void {
    work.then((value) => {
      this.down = false
      try {
        callback(null, value)
      } catch (err) {
        this.log?.error({ err: { message: (err as Error)?.message } }, 'session store callback threw')
        // @fastify/session builds the Session inside the callback, before it
        // calls its hook's done: a session it cannot build would leave the
        // request unanswered forever. Answered once more as no session.
        if (value !== null && value !== undefined) {
          try { callback(null, null as T) } catch { /* logged above */ }
        }
      }
    }, (err) => {
      try {
        callback(this.unavailable(err))
      } catch (thrown) {
        this.log?.error({ err: { message: (thrown as Error)?.message } }, 'session store callback threw')
      }
    })
  }

  /**
   * The client sees a code and a generic message; the reason goes to the
   * log, once per outage (until the store answers again): not one line per
   * failing request.
   */
  private unavailable (err: unknown): Error {
    if (!this.down) {
      this.down = true
      const reason = err instanceof Error ? err.message : String(err)
      this.log?.warn({ reason }, 'session store unavailable: requests get a 503 until it answers again')
    }
    return new StoreUnavailableError()
  }

  private remember (id: string): void {
    if (this.read.size >= MAX_REMEMBERED) this.read.delete(this.read.values().next().value as string)
    this.read.add(id)
  }

  private parse (id: string, raw: string): SessionLike | null {
    const value = parseStored(raw)
    const session = value as SessionLike
    if (value === null || typeof value !== 'object' || Array.isArray(value) ||
      Object.keys(value).some((key) => RESERVED.has(key)) ||
      (session.cookie !== undefined && (session.cookie === null || typeof session.cookie !== 'object'))) {
      return this.unparsable(id)
    }
    const created = session[CREATED_KEY]
    if (this.maxLifetime !== undefined && typeof created === 'number' && created + this.maxLifetime <= Date.now()) {
      this.backend.destroy(id).catch(() => {})
      return null
    }
    const cookie = session.cookie
    if (cookie !== undefined) {
      // attributes (secure, sameSite, domain, path) come from the current
      // configuration, never from the stored copy: tightening them reaches
      // existing sessions; with a maxAge, the store's TTL is the clock
      const maxAge = cookie.originalMaxAge
      const expires = cookie.expires
      if (maxAge !== undefined && maxAge !== null) {
        // @fastify/session throws on a maxAge whose expiry is no Date, and
        // Redis refuses PX NaN: such a session would never be answered
        if (!validMaxAge(maxAge)) return this.unparsable(id)
        session.cookie = { originalMaxAge: maxAge }
      } else if (expires !== undefined && expires !== null) {
        if (typeof expires !== 'string' || !Number.isFinite(Date.parse(expires))) return this.unparsable(id)
        session.cookie = { expires }
      } else {
        session.cookie = {}
      }
    }
    return session
  }

  private unparsable (id: string): null {
    // the id is a secret (it is the cookie): log only a hint of it
    this.log?.warn({ session: id.slice(0, 6) }, 'session value does not parse: treated as no session')
    return null
  }

  /**
   * A user's index must outlive their sessions, which slide on every read:
   * extended (never shortened) to `ttl` * 1.25, so refreshed at most every
   * `ttl` / 4 per session and process. Undefined when nothing is due.
   */
  private keepIndex (user: string, id: string, ttl: number): Promise<void> | undefined {
    const now = Date.now()
    const until = this.indexUntil.get(id)
    if (until !== undefined && until >= now + ttl) return undefined
    // a Map iterates in insertion order: re-inserted, an id is the newest, and past the bound the oldest goes
    // (clearing all would send every session's refresh at once)
    this.indexUntil.delete(id)
    if (this.indexUntil.size >= MAX_REMEMBERED) this.indexUntil.delete(this.indexUntil.keys().next().value as string)
    this.indexUntil.set(id, now + ttl * INDEX_SLACK)
    // a failure is the next read's to retry; the read itself stands
    return this.backend.keepIndex(user, id, ttl).catch(() => { this.indexUntil.delete(id) })
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

  /** Whole ms: Redis refuses a fractional PX. */
  private ttlOf (session: SessionLike): number {
    const cookie = session.cookie
    if (typeof cookie?.originalMaxAge === 'number') return Math.ceil(cookie.originalMaxAge)
    if (cookie?.expires !== undefined && cookie.expires !== null) return new Date(cookie.expires).getTime() - Date.now()
    return this.ttl
  }
}

/** Browsers cap a cookie's lifetime at 400 days (RFC 6265bis): no session lives longer. */
export const MAX_COOKIE_AGE = 400 * 86_400_000

function validMaxAge (maxAge: unknown): maxAge is number {
  return Number.isSafeInteger(maxAge) && (maxAge as number) > 0 && (maxAge as number) <= MAX_COOKIE_AGE
}

/**
 * The session as stored: JSON, with of its cookie only the lifetime (its
 * maxAge, or else its expiry): the other attributes come from the current
 * configuration on every read (see `parse`), so storing them would only cost
 * bytes and time. Deterministic, so an unchanged session serializes to what
 * was loaded: one native stringify to tell, where @fastify/session's
 * isModified() hashes a stable stringify.
 */
function serialize (session: SessionLike): string {
  const cookie = session.cookie
  if (cookie === undefined || cookie === null || typeof cookie.toJSON !== 'function') return JSON.stringify(session)
  const maxAge = cookie.originalMaxAge
  session.cookie = typeof maxAge === 'number'
    ? { originalMaxAge: maxAge }
    : cookie.expires !== undefined && cookie.expires !== null ? { expires: cookie.expires } : {}
  try {
    return JSON.stringify(session)
  } finally {
    session.cookie = cookie
  }
}
