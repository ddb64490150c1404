import t from 'tap'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { redisSession } from '@corral/redis-session'
import { REDIS_URL, assertDecorated, startRedisServer } from '@corral/test-helpers'
import { startRedisCluster } from '@corral/test-helpers/redis-cluster'
import { SECRET } from './fixtures/session-app.js'
import { redisFor, uniquePrefix } from './fixtures/redis.js'

const within = (promise, ms, what) => Promise.race([
  promise,
  new Promise((resolve, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms).unref())
])

async function cacheApp (t, redis, options = {}) {
  const app = Fastify()
  await app.register(redisSession, { secret: SECRET, bus: false, redis, keyPrefix: uniquePrefix('cache-bounds'), ...options })
  t.teardown(() => app.close())
  return app
}

/** An app on a Redis of its own, through a client with ioredis defaults (no commandTimeout: alone, it waits as long as Redis hangs). */
async function hangableApp (t) {
  const server = await startRedisServer()
  t.teardown(() => server.close())
  const client = new Redis(server.url)
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  return { server, app: await cacheApp(t, client, { commandTimeout: 300 }) }
}

t.test('cache commands are bounded by commandTimeout even on a passed-in client with ioredis defaults: a hung Redis falls back to the origin in time', async (t) => {
  const { server, app } = await hangableApp(t)
  assertDecorated(app, 'cache')
  t.same(await app.cache.wrap('k', async () => 1), 1)
  server.pause()
  try {
    t.equal(await within(app.cache.wrap('other', async () => 'origin'), 3000, 'wrap'), 'origin', 'wrap answers from the origin')
    const err = await within(app.cache.get('k').catch((e) => e), 3000, 'get')
    t.equal(err?.code, 'CORRAL_CACHE_UNAVAILABLE', 'get fails in time')
  } finally {
    server.resume()
  }
})

t.test('a leader answers without waiting for its lock release', async (t) => {
  const { server, app } = await hangableApp(t)
  assertDecorated(app, 'cache')
  // the origin runs while Redis hangs after the lock was taken: the release would wait
  const value = await within(app.cache.wrap('slow', async () => { server.pause(); return 'v' }), 3000, 'wrap')
  server.resume()
  t.equal(value, 'v')
})

t.test('cache keys that are empty are refused with a clear error; keys with braces keep their hash tag', async (t) => {
  const prefix = uniquePrefix('cache-keys')
  const redis = redisFor(t, prefix)
  const app = await cacheApp(t, REDIS_URL, { keyPrefix: prefix })
  assertDecorated(app, 'cache')
  await t.rejects(app.cache.set('', 1), /cache key.*empty/i)
  await t.rejects(app.cache.get(''), /cache key.*empty/i)
  for (const key of ['a}b', '{x}', 'x{', '}', 'plain']) {
    await app.cache.set(key, { key })
    t.same(await app.cache.get(key), { key }, `${key}: stored and read back`)
    t.same(await app.cache.wrap(key, () => 'not called'), { key }, `${key}: wrap hits`)
  }
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
    cursor = next
    keys.push(...found)
  } while (cursor !== '0')
  t.equal(new Set(keys).size, 5, 'five distinct keys')
})

t.test('on a Redis Cluster, a cache key with braces still single-flights (value and lock in one slot)', async (t) => {
  const { seeds, close } = await startRedisCluster({ masters: 3 })
  t.teardown(close)
  const app = await cacheApp(t, { cluster: { nodes: seeds } })
  assertDecorated(app, 'cache')
  for (const key of ['a}b', '{x}y', 'x{', '}{']) {
    let calls = 0
    const values = await Promise.all(Array.from({ length: 5 }, () => app.cache.wrap(key, async () => { calls++; return key })))
    t.same(values, Array(5).fill(key), `${key}: every caller gets the value`)
    t.equal(calls, 1, `${key}: one origin call`)
    t.equal(await app.cache.get(key), key, `${key}: stored`)
    await app.cache.del(key)
    t.equal(await app.cache.get(key), undefined, `${key}: deleted`)
  }
})
