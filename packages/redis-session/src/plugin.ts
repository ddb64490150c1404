import { workerContext } from '@corral/cluster-boot'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { memoryCache, primaryCache, redisCache, type CacheApi } from './cache/index.js'
import { InvalidOptionError, StoreUnavailableError } from './errors.js'
import { resolveOptions, type RedisSessionOptions, type ResolvedOptions } from './options.js'
import { localPubSub, primaryPubSub, redisPubSub, type PubSubApi } from './pubsub/index.js'
import { refuseClusterNode } from './redis/cluster-detect.js'
import { connect } from './redis/connect.js'
import type { SessionBackend } from './session/backend.js'
import { CachedSigner } from './session/cached-signer.js'
import { MemorySessionBackend, type EmbeddedStats } from './session/memory-backend.js'
import { PrimarySessionBackend } from './session/primary-backend.js'
import { RedisSessionBackend } from './session/redis-backend.js'
import { SessionStore } from './session/store.js'

/** `fastify.sessions`: the store behind `request.session`, and "log out everywhere". */
export interface SessionsApi {
  readonly store: SessionStore
  /** where sessions live: 'redis', 'primary' (the cluster-boot primary) or 'memory' (this process) */
  readonly kind: StoreKind
  /** removes every session of a user on every worker and machine; resolves with how many there were */
  destroyAllFor (user: string | number): Promise<number>
  /** with the in-process store ('memory'): its sizes and eviction counts, for metrics (the primary's are `admin.embeddedStore`) */
  readonly embedded?: { sessions: EmbeddedStats, cache?: EmbeddedStats }
}

export type StoreKind = 'redis' | 'primary' | 'memory'

declare module 'fastify' {
  interface FastifyInstance {
    /** @corral/redis-session: sessions beyond `request.session` */
    sessions: SessionsApi
    /** @corral/redis-session: a JSON cache shared by workers and machines, with single-flight `wrap`; undefined with `cache: false` */
    cache?: CacheApi
    /** @corral/redis-session: publish/subscribe across workers and machines; undefined with `bus: false` */
    bus?: PubSubApi
  }
}

const UNAVAILABLE_CODE = new StoreUnavailableError('').code

interface Backends {
  kind: StoreKind
  sessions: SessionBackend
  cache?: CacheApi
  bus?: PubSubApi
  embedded?: { sessions: EmbeddedStats, cache?: EmbeddedStats }
  close: () => Promise<void>
}

async function backendsFor (fastify: FastifyInstance, opts: ResolvedOptions): Promise<Backends> {
  const log = fastify.log
  if (opts.redis !== undefined) {
    const { client, owned, topology, selfBounded } = connect(opts.redis, opts.commandTimeout)
    try {
      await refuseClusterNode(client, opts.commandTimeout, log)
    } catch (err) {
      if (owned) client.disconnect()
      throw err
    }
    log.debug({ topology }, 'redis-session: Redis topology')
    const bus = opts.bus ? await redisPubSub(client, `${opts.prefix}bus:`, log, opts.commandTimeout) : undefined
    return {
      kind: 'redis',
      sessions: new RedisSessionBackend(client, opts.prefix, selfBounded ? undefined : opts.commandTimeout),
      cache: opts.cache === false ? undefined : redisCache(client, `${opts.prefix}cache:`, opts.cache, log, opts.commandTimeout),
      bus,
      close: async () => {
        await bus?.close()
        if (owned) await client.quit().catch(() => client.disconnect())
      }
    }
  }
  const worker = workerContext()
  if (worker !== null) {
    const sessions = new PrimarySessionBackend(worker.bus, opts.commandTimeout)
    try {
      await sessions.ping()
    } catch (err) {
      throw new InvalidOptionError('redis', 'set, or the embedded store hosted by the cluster-boot primary (the primary\'s log says why it is not)',
        `nothing, and the primary does not host the store: ${(err as Error).message}`)
    }
    const bus = opts.bus ? primaryPubSub(worker.bus, log) : undefined
    return {
      kind: 'primary',
      sessions,
      cache: opts.cache === false ? undefined : primaryCache(worker.bus, opts.cache, log),
      bus,
      close: async () => { await bus?.close() }
    }
  }
  const sessions = new MemorySessionBackend({ maxSessions: opts.maxSessions, maxBytes: opts.maxBytes, log })
  const cache = opts.cache === false ? undefined : memoryCache(opts.cache, log)
  const bus = opts.bus ? localPubSub(log) : undefined
  return {
    kind: 'memory',
    sessions,
    cache,
    bus,
    embedded: { sessions, cache },
    close: async () => {
      sessions.close()
      cache?.close()
      await bus?.close()
    }
  }
}

const DESCRIPTION: Record<StoreKind, string> = {
  redis: 'sessions, cache and bus on Redis',
  primary: 'sessions, cache and bus embedded in the cluster-boot primary (shared by the workers of this machine)',
  memory: 'sessions, cache and bus in this process (not shared: pass `redis` to share them)'
}

/**
 * Sessions (`@fastify/cookie` + `@fastify/session` with safe defaults), a
 * shared cache and a pub/sub bus: on Redis when `redis` is given, else in the
 * cluster-boot primary, else in this process.
 */
async function redisSessionPlugin (fastify: FastifyInstance, options: RedisSessionOptions): Promise<void> {
  const opts = resolveOptions(options)
  // no Redis: in a cluster-boot worker the embedded store lives in the primary, which loads it when asked
  if (opts.redis === undefined) await workerContext()?.usePrimary(new URL('./primary.js', import.meta.url), options.primary)
  const backends = await backendsFor(fastify, opts)
  fastify.log.info({ store: backends.kind }, DESCRIPTION[backends.kind])

  const store = new SessionStore(backends.sessions, { ttl: opts.cookie.maxAge, userKey: opts.userKey, maxLifetime: opts.maxLifetime, log: fastify.log })
  fastify.decorate('sessions', {
    store,
    kind: backends.kind,
    ...(backends.embedded !== undefined ? { embedded: backends.embedded } : {}),
    destroyAllFor: async (user: string | number) => await store.destroyAllFor(user)
  })
  if (backends.cache !== undefined) fastify.decorate('cache', backends.cache)
  if (backends.bus !== undefined) fastify.decorate('bus', backends.bus)
  fastify.addHook('onClose', async () => { await backends.close() })

  if (!fastify.hasDecorator('parseCookie')) await fastify.register(fastifyCookie)
  await fastify.register(fastifySession, {
    secret: new CachedSigner(opts.secret),
    store: store as unknown as fastifySession.SessionStore,
    cookieName: opts.cookieName,
    cookie: opts.cookie,
    saveUninitialized: false,
    rolling: true
  })

  const cookieName = opts.cookieName
  // after @fastify/session's own onRequest: the session is loaded by now
  // a callback hook, not async: no promise per request on the hot path
  fastify.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    markLoaded(request)
    done()
  })
  const markLoaded = (request: FastifyRequest): void => {
    const session = request.session
    if (session === null || session.sessionId === undefined) return
    const raw = request.cookies[cookieName]
    if (raw === undefined) return
    if (raw === session.encryptedSessionId) {
      store.markLoaded(session)
    } else if (raw.slice(0, raw.lastIndexOf('.')) === session.sessionId) {
      // signed with an older secret and still valid: re-sign it with the newest
      // instead of letting @fastify/session clear it (a silent logout)
      store.markLoaded(session)
      request.cookies[cookieName] = session.encryptedSessionId
    }
  }

  fastify.addHook('onError', async (_request: FastifyRequest, reply: FastifyReply, error: Error & { code?: string }) => {
    if (error.code === UNAVAILABLE_CODE) reply.header('retry-after', String(opts.retryAfter))
  })
}

export const redisSession = fp(redisSessionPlugin, {
  name: '@corral/redis-session',
  fastify: '5.x'
})
