import t from 'tap'
import { Redis } from 'ioredis'
import { RedisStore, failFastOptions } from '@corral/redis-session'
import { startRedisServer } from '@corral/test-helpers'
import { redisFor, uniquePrefix } from './fixtures/redis.js'

const get = (store, id): Promise<{ err: any, session: any }> => new Promise((resolve) => store.get(id, (err, session) => resolve({ err, session })))

t.test('past 10 000 remembered index refreshes, only the oldest is forgotten, not all of them', async (t) => {
  const prefix = uniquePrefix('index-until')
  const redis = redisFor(t, prefix)
  const store = new RedisStore({ client: redis, prefix, userKey: 'user' })
  const n = 10_001
  for (let i = 0; i < n; i += 1000) {
    const pipeline = redis.pipeline()
    for (let j = i; j < Math.min(n, i + 1000); j++) pipeline.set(`${prefix}sess:s${j}`, `{"user":"u${j % 10}"}`, 'PX', 600_000)
    await pipeline.exec()
  }
  const refreshed: string[] = []
  // the store's backend is protected: the test wraps it to count index refreshes
  const keepIndex = (store as any).backend.keepIndex.bind((store as any).backend)
  ;(store as any).backend.keepIndex = (user, id, ttl) => { refreshed.push(id); return keepIndex(user, id, ttl) }
  for (let i = 0; i < n; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, n - i) }, (_, k) => get(store, `s${i + k}`)))
  }
  t.equal(refreshed.length, n, 'each session\'s index refreshed once')
  refreshed.length = 0
  for (const id of ['s1', 's5000', 's10000']) t.equal((await get(store, id)).session.user, `u${Number(id.slice(1)) % 10}`)
  t.same(refreshed, [], 'recently refreshed sessions are still remembered: no refresh due')
  await get(store, 's0')
  t.same(refreshed, ['s0'], 'the oldest was forgotten')
})

t.test('a session store outage is logged once, not on every failing request, and again after Redis came back and went', async (t) => {
  const server = await startRedisServer()
  t.teardown(() => server.close())
  const client = new Redis(server.url, failFastOptions(300))
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  const warnings: any[] = []
  const store = new RedisStore({ client, prefix: uniquePrefix('outage-log'), log: { warn: (fields, msg?) => { warnings.push(msg) }, error () {} } })
  t.equal((await get(store, 'x')).err, null, 'answers')
  await server.stop()
  for (let i = 0; i < 5; i++) t.equal((await get(store, 'x')).err?.code, 'CORRAL_SESSION_STORE_UNAVAILABLE')
  t.equal(warnings.filter((m) => m.includes('unavailable')).length, 1, 'one warning for the outage')
  await server.start()
  for (let i = 0; i < 50 && (await get(store, 'x')).err; i++) await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal((await get(store, 'x')).err, null, 'answers again')
  await server.stop()
  for (let i = 0; i < 3; i++) await get(store, 'x')
  t.equal(warnings.filter((m) => m.includes('unavailable')).length, 2, 'one more for the next outage')
  // running again for close(): the helper's stop() waits for the exit of a live server only
  await server.start()
})
