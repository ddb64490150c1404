import { optionChecks, type OptionChecks } from '@corral/cluster-boot/options'
import { InvalidOptionError } from './errors.js'
import { isRedisClient, type RedisInput } from './redis-client.js'
import { cacheDefaults, type CacheOptions } from './cache/index.js'
import { DEFAULT_MAX_SESSION_BYTES } from './session/memory-backend.js'
import { checkTopology } from './redis/topology.js'

export interface SessionCookieOptions {
  /** ms the session lives after its last request; also its store TTL (default one day) */
  maxAge?: number
  /** send the cookie over HTTPS only (default: true when NODE_ENV is 'production') */
  secure?: boolean | 'auto'
  /** default 'lax' */
  sameSite?: 'lax' | 'strict' | 'none'
  /** default true: page scripts cannot read the cookie */
  httpOnly?: boolean
  path?: string
  domain?: string
}

export interface RedisSessionOptions {
  /** cookie signing secret, 32+ characters; an array rotates: sign with the first, accept all */
  secret: string | string[]
  /** ioredis client (Redis or Cluster), URL, options, `{ cluster: { nodes } }` or `{ sentinels, name }`; without it, the embedded store (the cluster-boot primary, or this process) */
  redis?: RedisInput
  /** in a cluster-boot worker with no `redis`: options of the embedded store the primary hosts, which it loads when a worker asks (default {}) */
  primary?: PrimaryHostOptions
  /** prefix of every Redis key and channel (default 'corral:') */
  keyPrefix?: string
  /** @deprecated the old name of `keyPrefix` (Fastify reserves `prefix` for route prefixes) */
  prefix?: string
  /** default 'sessionId' */
  cookieName?: string
  cookie?: SessionCookieOptions
  /** the session field holding the user id, indexed for "log out everywhere" (default 'userId') */
  userKey?: string
  /** ms any Redis command or embedded-store request may take before the request gets a 503 (default 1000) */
  commandTimeout?: number
  /** seconds in the Retry-After of that 503 (default 1: a store that timed out is often back at once) */
  retryAfter?: number
  /** ms after login (its creation) a session is dead even if used every minute (default: no limit) */
  maxLifetime?: number
  /** the most sessions the embedded store of a single process keeps (default 100000) */
  maxSessions?: number
  /** the most bytes the embedded store of a single process keeps (default 128 MiB) */
  maxBytes?: number
  /** `fastify.cache` settings, or false for no cache */
  cache?: Partial<CacheOptions> | false
  /** false: no `fastify.bus` (default true) */
  bus?: boolean
}

export interface PrimaryHostOptions {
  /** the most sessions the primary keeps for its workers (default 100000) */
  maxSessions?: number
  /** the most bytes of sessions the primary keeps for its workers (default 128 MiB) */
  maxBytes?: number
  /** the embedded cache's settings */
  cache?: Partial<CacheOptions>
}

export interface ResolvedOptions {
  secret: string[]
  redis?: RedisInput
  prefix: string
  cookieName: string
  cookie: Required<Pick<SessionCookieOptions, 'maxAge' | 'secure' | 'sameSite' | 'httpOnly' | 'path'>> & { domain?: string }
  userKey: string
  commandTimeout: number
  retryAfter: number
  maxLifetime?: number
  maxSessions: number
  maxBytes: number
  cache: CacheOptions | false
  bus: boolean
}

export const MIN_SECRET_LENGTH = 32
const MIN_DISTINCT_CHARACTERS = 10

const check: OptionChecks = optionChecks(InvalidOptionError, '@corral/redis-session')

/** A whole, positive number: ms for Redis' PX, counts, bytes. */
export function positiveInteger (name: string, value: unknown, fallback: number): number {
  return check.integer(name, value, fallback, { min: 1 })
}

/** Never echoes a secret back: only its length and position. */
function secrets (value: unknown): string[] {
  const expected = `a string of ${MIN_SECRET_LENGTH}+ characters, or an array of them`
  if (value === undefined) check.fail('secret', expected, value)
  const list = Array.isArray(value) ? value : [value]
  if (list.length === 0) check.fail('secret', expected, value)
  list.forEach((s: unknown, i) => {
    const name = Array.isArray(value) ? `secret[${i}]` : 'secret'
    if (typeof s !== 'string') check.fail(name, 'a string', s, typeof s)
    if (s.length < MIN_SECRET_LENGTH) check.fail(name, `at least ${MIN_SECRET_LENGTH} characters long`, s, `${s.length} characters, not shown`)
    if (new Set(s).size < MIN_DISTINCT_CHARACTERS) check.fail(name, `made of at least ${MIN_DISTINCT_CHARACTERS} distinct characters`, s, `${new Set(s).size}, not shown`)
  })
  return list as string[]
}

export function resolveCacheOptions (value: unknown): CacheOptions {
  if (value === undefined) return { ...cacheDefaults }
  const c = check.object('cache', value, 'an object or false')
  return {
    ttl: positiveInteger('cache.ttl', c.ttl, cacheDefaults.ttl),
    lockTtl: positiveInteger('cache.lockTtl', c.lockTtl, cacheDefaults.lockTtl),
    waitTimeout: check.positive('cache.waitTimeout', c.waitTimeout, cacheDefaults.waitTimeout),
    maxEntries: positiveInteger('cache.maxEntries', c.maxEntries, cacheDefaults.maxEntries),
    maxBytes: positiveInteger('cache.maxBytes', c.maxBytes, cacheDefaults.maxBytes)
  }
}

export function resolveOptions (options: RedisSessionOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') check.fail('options', 'an object with at least `secret`', options)
  const redis = options.redis
  if (redis !== undefined && typeof redis !== 'string' && !isRedisClient(redis) && (redis === null || typeof redis !== 'object')) {
    check.fail('redis', 'an ioredis client, a redis:// URL or ioredis options', redis)
  }
  if (typeof redis === 'string' && !/^rediss?:\/\//.test(redis)) check.fail('redis', 'a URL starting with redis:// or rediss://', redis)
  if (typeof redis === 'object' && !isRedisClient(redis)) checkTopology(redis)

  const cookie: SessionCookieOptions = check.object('cookie', options.cookie)
  const sameSite = check.oneOf('cookie.sameSite', cookie.sameSite, 'lax', ['lax', 'strict', 'none'])
  const secure = cookie.secure ?? process.env.NODE_ENV === 'production'
  if (typeof secure !== 'boolean' && secure !== 'auto') check.fail('cookie.secure', "true, false or 'auto'", secure)
  if (sameSite === 'none' && secure === false) check.fail('cookie.sameSite', "'lax' or 'strict' unless cookie.secure is set (browsers drop a sameSite 'none' cookie that is not secure)", sameSite)
  if (cookie.domain !== undefined) check.text('cookie.domain', cookie.domain, '')

  const keyPrefix = check.renamed<string>(options, 'prefix', 'keyPrefix')
  return {
    secret: secrets(options.secret),
    redis,
    prefix: check.text('keyPrefix', keyPrefix, 'corral:'),
    cookieName: check.text('cookieName', options.cookieName, 'sessionId'),
    cookie: {
      maxAge: positiveInteger('cookie.maxAge', cookie.maxAge, 86_400_000),
      secure,
      sameSite,
      httpOnly: check.boolean('cookie.httpOnly', cookie.httpOnly, true),
      path: check.text('cookie.path', cookie.path, '/'),
      ...(cookie.domain !== undefined ? { domain: cookie.domain } : {})
    },
    userKey: check.text('userKey', options.userKey, 'userId'),
    commandTimeout: check.positive('commandTimeout', options.commandTimeout, 1000),
    retryAfter: check.integer('retryAfter', options.retryAfter, 1, { min: 1 }),
    ...(options.maxLifetime !== undefined ? { maxLifetime: positiveInteger('maxLifetime', options.maxLifetime, 0) } : {}),
    maxSessions: positiveInteger('maxSessions', options.maxSessions, 100_000),
    maxBytes: positiveInteger('maxBytes', options.maxBytes, DEFAULT_MAX_SESSION_BYTES),
    cache: options.cache === false ? false : resolveCacheOptions(options.cache),
    bus: check.boolean('bus', options.bus, true)
  }
}

/** `@corral/redis-session`'s option checks, for the rest of the package (Redis topology, env). */
export { check }
