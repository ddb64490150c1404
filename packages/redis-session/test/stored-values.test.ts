import t from 'tap'
import Fastify from 'fastify'
import { RedisStore, redisSession } from '@corral/redis-session'
import { REDIS_URL, assertDecorated, freePort, request, spawnNode } from '@corral/test-helpers'
import { SECRET, buildSessionApp, sessionCookie, sessionIdOf } from './fixtures/session-app.js'
import { redisFor, uniquePrefix } from './fixtures/redis.js'

// values another Redis client (or any worker, through the embedded store) may have written
const POISONED = {
  'a top-level __proto__': '{"__proto__":{"isModified":1},"user":"mallory","cookie":{"originalMaxAge":60000}}',
  'a nested __proto__': '{"user":"mallory","prefs":{"__proto__":{"admin":true}}}',
  'constructor.prototype': '{"user":"mallory","constructor":{"prototype":{"admin":true}}}',
  'a Session method @fastify/session calls': '{"user":"mallory","isModified":1,"save":"no"}',
  'a Session method apps call': '{"user":"mallory","get":"x"}',
  'a cookie that is not an object': '{"user":"mallory","cookie":"x"}'
}

t.test('redis: a stored session value that would poison a prototype or a Session is no session, and the server keeps serving', async (t) => {
  const prefix = uniquePrefix('poison')
  const redis = redisFor(t, prefix)
  const logs: any[] = []
  const app = await buildSessionApp({ redis: REDIS_URL, keyPrefix: prefix }, { logger: { level: 'warn', stream: { write: (l) => logs.push(JSON.parse(l)) } } })
  t.teardown(() => app.close())
  const port = await freePort()
  await app.listen({ port, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${port}`
  for (const [name, value] of Object.entries(POISONED)) {
    const cookie = sessionCookie(await request(`${url}/login`, { method: 'POST', body: { user: 'alice' } }))
    await redis.set(`${prefix}sess:${sessionIdOf(cookie)}`, value)
    for (let i = 0; i < 3; i++) {
      const res = await request(`${url}/me`, { headers: { cookie } })
      t.equal(res.status, 200, `${name}: answered`)
      t.same(res.body, { user: null }, `${name}: anonymous`)
    }
  }
  const fresh = sessionCookie(await request(`${url}/login`, { method: 'POST', body: { user: 'bob' } }))
  t.equal((await request(`${url}/me`, { headers: { cookie: fresh } })).body.user, 'bob', 'still serving')
  t.ok(logs.some((l) => l.msg.includes('does not parse')), 'logged')
})

t.test('embedded store: a poisoned session or cache value written by a worker crashes no worker', async (t) => {
  const port = await freePort()
  const proc = spawnNode(new URL('./fixtures/session-cluster.mjs', import.meta.url).pathname, { env: { PORT: String(port) } })
  t.teardown(() => proc.stop())
  await proc.waitForLine((l) => l.msg === 'all workers ready', 60_000)
  const url = `http://127.0.0.1:${port}`
  const cookie = sessionCookie(await request(`${url}/login`, { method: 'POST', body: { user: 'alice' } }))
  t.equal((await request(`${url}/poison`, { method: 'POST', headers: { cookie } })).status, 200)
  for (let i = 0; i < 10; i++) {
    const res = await request(`${url}/me`, { headers: { cookie } })
    t.equal(res.status, 200, `request ${i} answered`)
    t.same(res.body, { user: null }, `request ${i} anonymous`)
    const cached = await request(`${url}/cache/poisoned`)
    t.same(cached.body, { value: null }, `request ${i}: the cached value is a miss`)
  }
  t.same(proc.lines.filter((l) => l.msg === 'worker died'), [], 'no worker died')
  const fresh = sessionCookie(await request(`${url}/login`, { method: 'POST', body: { user: 'bob' } }))
  t.equal((await request(`${url}/me`, { headers: { cookie: fresh } })).body.user, 'bob', 'still serving')
})

for (const backend of ['memory', 'redis']) {
  t.test(`${backend}: a cached value carrying __proto__ is a miss, logged`, async (t) => {
    const prefix = uniquePrefix('poison-cache')
    const redis = redisFor(t, prefix)
    const logs: any[] = []
    const app = Fastify({ logger: { level: 'warn', stream: { write: (l) => logs.push(JSON.parse(l)) } } })
    await app.register(redisSession, { secret: SECRET, bus: false, ...(backend === 'redis' ? { redis: REDIS_URL, keyPrefix: prefix } : {}) })
    assertDecorated(app, 'cache')
    t.teardown(() => app.close())
    const poisoned = JSON.parse('{"__proto__":{"polluted":true},"ok":1}')
    if (backend === 'redis') await redis.set(`${prefix}cache:{k}`, '{"__proto__":{"polluted":true},"ok":1}')
    else await app.cache.set('k', poisoned)
    t.equal(await app.cache.get('k'), undefined)
    t.same(await app.cache.wrap('k', async () => ({ fresh: true })), { fresh: true }, 'wrap computes afresh')
    t.ok(logs.some((l) => l.msg.includes('does not parse')))
  })
}

t.test('a store callback that throws is logged, never an unhandled rejection', async (t) => {
  const prefix = uniquePrefix('callback-throws')
  const redis = redisFor(t, prefix)
  const errors: any[] = []
  const store = new RedisStore({ client: redis, prefix, log: { warn () {}, error: (fields, msg?) => { errors.push(msg) } } })
  await redis.set(`${prefix}sess:abc`, '{"user":"alice"}')
  const unhandled: any[] = []
  const onUnhandled = (err) => unhandled.push(err)
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => process.off('unhandledRejection', onUnhandled))
  await new Promise((resolve) => store.get('abc', () => { setImmediate(resolve); throw new Error('the caller broke') }))
  await new Promise((resolve) => setImmediate(resolve))
  t.same(unhandled, [])
  t.same(errors, ['session store callback threw'])
})
