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
  prefix?: string
  /** default 'sessionId' */
  cookieName?: string
  cookie?: SessionCookieOptions
  /** the session field holding the user id, indexed for "log out everywhere" (default 'userId') */
  userKey?: string
  /** ms any Redis command or embedded-store request may take before the request gets a 503 (default 1000) */
  commandTimeout?: number
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
  maxLifetime?: number
  maxSessions: number
  maxBytes: number
  cache: CacheOptions | false
  bus: boolean
}

export const MIN_SECRET_LENGTH = 32
const MIN_DISTINCT_CHARACTERS = 10

function fail (name: string, message: string): never {
  throw new InvalidOptionError(name, message)
}

function positive (name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(name, `expected a positive number, got ${JSON.stringify(value)}`)
  return value
}

/** A whole, positive number: ms for Redis' PX, counts, bytes. */
export function positiveInteger (name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) fail(name, `expected a positive integer, got ${JSON.stringify(value)}`)
  return value
}

function text (name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value.length === 0) fail(name, `expected a non-empty string, got ${JSON.stringify(value)}`)
  return value
}

/** Never echoes a secret back: only its length and position. */
function secrets (value: unknown): string[] {
  if (value === undefined) fail('secret', `required: a string of ${MIN_SECRET_LENGTH}+ characters, or an array of them`)
  const list = Array.isArray(value) ? value : [value]
  if (list.length === 0) fail('secret', 'the array is empty')
  list.forEach((s: unknown, i) => {
    const name = Array.isArray(value) ? `secret[${i}]` : 'secret'
    if (typeof s !== 'string') fail(name, 'expected a string')
    if (s.length < MIN_SECRET_LENGTH) fail(name, `too short: ${s.length} characters, at least ${MIN_SECRET_LENGTH} required`)
    if (new Set(s).size < MIN_DISTINCT_CHARACTERS) fail(name, `too weak: fewer than ${MIN_DISTINCT_CHARACTERS} distinct characters`)
  })
  return list as string[]
}

export function resolveCacheOptions (value: unknown): CacheOptions {
  if (value === undefined) return { ...cacheDefaults }
  if (value === null || typeof value !== 'object') fail('cache', `expected an object or false, got ${JSON.stringify(value)}`)
  const c = value as Partial<CacheOptions>
  return {
    ttl: positiveInteger('cache.ttl', c.ttl, cacheDefaults.ttl),
    lockTtl: positiveInteger('cache.lockTtl', c.lockTtl, cacheDefaults.lockTtl),
    waitTimeout: positive('cache.waitTimeout', c.waitTimeout, cacheDefaults.waitTimeout),
    maxEntries: positiveInteger('cache.maxEntries', c.maxEntries, cacheDefaults.maxEntries),
    maxBytes: positiveInteger('cache.maxBytes', c.maxBytes, cacheDefaults.maxBytes)
  }
}

export function resolveOptions (options: RedisSessionOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') fail('options', 'expected an object with at least `secret`')
  const redis = options.redis
  if (redis !== undefined && typeof redis !== 'string' && !isRedisClient(redis) && (redis === null || typeof redis !== 'object')) {
    fail('redis', 'expected an ioredis client, a redis:// URL or ioredis options')
  }
  if (typeof redis === 'string' && !/^rediss?:\/\//.test(redis)) fail('redis', 'a URL must start with redis:// or rediss://')
  if (typeof redis === 'object' && !isRedisClient(redis)) checkTopology(redis)

  const cookie = options.cookie ?? {}
  if (cookie === null || typeof cookie !== 'object') fail('cookie', 'expected an object')
  const sameSite = cookie.sameSite ?? 'lax'
  if (!['lax', 'strict', 'none'].includes(sameSite)) fail('cookie.sameSite', `expected 'lax', 'strict' or 'none', got ${JSON.stringify(sameSite)}`)
  const secure = cookie.secure ?? process.env.NODE_ENV === 'production'
  if (typeof secure !== 'boolean' && secure !== 'auto') fail('cookie.secure', `expected a boolean or 'auto', got ${JSON.stringify(secure)}`)
  if (sameSite === 'none' && secure === false) fail('cookie.sameSite', "'none' needs cookie.secure (browsers drop the cookie otherwise)")
  if (cookie.httpOnly !== undefined && typeof cookie.httpOnly !== 'boolean') fail('cookie.httpOnly', 'expected a boolean')
  if (cookie.domain !== undefined) text('cookie.domain', cookie.domain, '')

  if (options.bus !== undefined && typeof options.bus !== 'boolean') fail('bus', `expected a boolean, got ${JSON.stringify(options.bus)}`)
  return {
    secret: secrets(options.secret),
    redis,
    prefix: text('prefix', options.prefix, 'corral:'),
    cookieName: text('cookieName', options.cookieName, 'sessionId'),
    cookie: {
      maxAge: positiveInteger('cookie.maxAge', cookie.maxAge, 86_400_000),
      secure,
      sameSite,
      httpOnly: cookie.httpOnly ?? true,
      path: text('cookie.path', cookie.path, '/'),
      ...(cookie.domain !== undefined ? { domain: cookie.domain } : {})
    },
    userKey: text('userKey', options.userKey, 'userId'),
    commandTimeout: positive('commandTimeout', options.commandTimeout, 1000),
    ...(options.maxLifetime !== undefined ? { maxLifetime: positiveInteger('maxLifetime', options.maxLifetime, 0) } : {}),
    maxSessions: positiveInteger('maxSessions', options.maxSessions, 100_000),
    maxBytes: positiveInteger('maxBytes', options.maxBytes, DEFAULT_MAX_SESSION_BYTES),
    cache: options.cache === false ? false : resolveCacheOptions(options.cache),
    bus: options.bus ?? true
  }
}
