import Fastify from 'fastify'
import type { SessionStore as FastifySessionStore } from '@fastify/session'
import type { Redis } from 'ioredis'
import { describe, expect, test } from 'tstyche'
import {
  redisSession,
  redisSessionPrimary,
  RedisStore,
  SessionStore,
  type CacheApi,
  type EmbeddedStoreStats,
  type PubSubApi,
  type RedisSessionOptions,
  type SessionsApi,
  type StoreKind
} from '@corral/redis-session'

const secret = 'a-secret-of-more-than-thirty-two-characters'
const client = {} as Redis

describe('stores', () => {
  test('RedisStore and SessionStore are @fastify/session stores', () => {
    expect<RedisStore>().type.toBeAssignableTo<FastifySessionStore>()
    expect<SessionStore>().type.toBeAssignableTo<FastifySessionStore>()
    expect(new RedisStore({ client })).type.toBeAssignableTo<FastifySessionStore>()
  })

  test('RedisStore takes an ioredis client', () => {
    expect(RedisStore).type.toBeConstructableWith({ client, prefix: 'app:', ttl: 86_400_000 })
    expect(RedisStore).type.not.toBeConstructableWith({ prefix: 'app:' })
  })
})

describe('decorators', () => {
  const app = Fastify()

  test('fastify.sessions is there once registered', () => {
    expect(app.sessions).type.toBe<SessionsApi>()
    expect(app.sessions.kind).type.toBe<StoreKind>()
    expect(app.sessions.destroyAllFor('user-1')).type.toBe<Promise<number>>()
  })

  test('fastify.cache and fastify.bus are optional: cache: false and bus: false remove them', () => {
    expect(app.cache).type.toBe<CacheApi | undefined>()
    expect(app.bus).type.toBe<PubSubApi | undefined>()
    expect(app.cache?.get<number>('k')).type.toBe<Promise<number | undefined> | undefined>()
  })

  test('admin.embeddedStore is there only on the admin instance with redisSessionPrimary', () => {
    expect(app.embeddedStore).type.toBe<EmbeddedStoreStats | undefined>()
  })

  test('request.session is typed by @fastify/session', () => {
    app.get('/', async (request) => {
      expect(request.session.sessionId).type.toBe<string>()
      return {}
    })
  })
})

describe('options', () => {
  test('secret is required; a string or an array of them', () => {
    expect(Fastify().register).type.toBeCallableWith(redisSession, { secret })
    expect(Fastify().register).type.toBeCallableWith(redisSession, { secret: [secret, secret] })
    expect<RedisSessionOptions>().type.not.toBeAssignableFrom<{ keyPrefix: string }>()
  })

  test('keyPrefix, retryAfter, and cache/bus that can be switched off', () => {
    expect<RedisSessionOptions>().type.toBeAssignableFrom<{ secret: string, keyPrefix: string, retryAfter: number, cache: false, bus: false }>()
    expect<RedisSessionOptions>().type.toBeAssignableFrom<{ secret: string, cache: { ttl: number } }>()
    expect<RedisSessionOptions>().type.not.toBeAssignableFrom<{ secret: string, cookie: { sameSite: 'loose' } }>()
  })

  test('redis: a client, a URL, or a Cluster / Sentinel shape', () => {
    expect<RedisSessionOptions>().type.toBeAssignableFrom<{ secret: string, redis: Redis }>()
    expect<RedisSessionOptions>().type.toBeAssignableFrom<{ secret: string, redis: string }>()
    expect<RedisSessionOptions>().type.toBeAssignableFrom<{ secret: string, redis: { cluster: { nodes: ['127.0.0.1:7000'] } } }>()
    expect<RedisSessionOptions>().type.toBeAssignableFrom<{ secret: string, redis: { sentinels: ['127.0.0.1:26379'], name: 'mymaster' } }>()
  })

  test('redisSessionPrimary takes the embedded store bounds', () => {
    expect(Fastify().register).type.toBeCallableWith(redisSessionPrimary, { maxSessions: 1000, maxBytes: 1 << 20, cache: { maxEntries: 10 } })
    expect(Fastify().register).type.not.toBeCallableWith(redisSessionPrimary, { maxSessions: 'many' })
  })
})
