import t from 'tap'
import { RedisStore } from '@corral/redis-session'
import { REDIS_URL, freePort, sleep, spawnNode } from '@corral/test-helpers'
import { buildSessionApp, sessionCookie } from './fixtures/session-app.js'
import { hammer, send } from './fixtures/hammer.js'
import { redisFor, uniquePrefix } from './fixtures/redis.js'

const ROUNDS = 5

async function login (url, user) {
  const res = await send(`${url}/login?user=${user}`, { method: 'POST' })
  return sessionCookie(res)
}

/**
 * Logs alice in twice (B1, B2); 4 connections keep requesting /me with B2
 * while `revoke` runs with B1 (or B2); afterwards B2 must be anonymous.
 */
async function race (t, url, revoke) {
  for (let round = 0; round < ROUNDS; round++) {
    const b1 = await login(url, 'alice')
    const b2 = await login(url, 'alice')
    t.equal((await send(`${url}/me`, { cookie: b2 })).body.user, 'alice', `round ${round}: B2 logged in`)
    const load = hammer(`${url}/me`, b2)
    await sleep(100)
    const res = await send(`${url}/${revoke}`, { method: 'POST', cookie: revoke === 'logout' ? b2 : b1 })
    t.equal(res.status, 200, `round ${round}: ${revoke} answered`)
    await sleep(100)
    const requests = await load.stop()
    t.ok(requests > 0, `round ${round}: ${requests} racing requests`)
    const after = await send(`${url}/me`, { cookie: b2 })
    t.same(after.body, { user: null }, `round ${round}: B2 stays logged out after ${revoke}`)
  }
}

/** Every session key left in Redis is listed in its user's index. */
async function everyKeyIndexed (t, redis, prefix) {
  let cursor = '0'
  const outside: string[] = []
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}sess:*`, 'COUNT', 500)
    cursor = next
    for (const key of keys) {
      const value = JSON.parse(await redis.get(key) ?? 'null')
      if (value?.user === undefined) continue
      const id = key.slice(`${prefix}sess:`.length)
      if (!await redis.sismember(`${prefix}user:${value.user}`, id)) outside.push(id.slice(0, 6))
    }
  } while (cursor !== '0')
  t.same(outside, [], 'no session key outside its user\'s index')
}

async function listen (t, options) {
  const app = await buildSessionApp(options)
  t.teardown(() => app.close())
  const port = await freePort()
  await app.listen({ port, host: '127.0.0.1' })
  return `http://127.0.0.1:${port}`
}

for (const revoke of ['logout-all', 'logout']) {
  t.test(`redis: a session requested during ${revoke} is not recreated, and no key is left outside the index`, async (t) => {
    const prefix = uniquePrefix(`revoke-${revoke}`)
    const redis = redisFor(t, prefix)
    const url = await listen(t, { redis: REDIS_URL, prefix })
    await race(t, url, revoke)
    await everyKeyIndexed(t, redis, prefix)
  })

  t.test(`in-process store: a session requested during ${revoke} is not recreated`, async (t) => {
    const url = await listen(t, {})
    await race(t, url, revoke)
  })
}

t.test('embedded store in the primary: a session requested during logout-all on 2 workers is not recreated', async (t) => {
  const port = await freePort()
  const proc = spawnNode(new URL('./fixtures/session-cluster.mjs', import.meta.url).pathname, { env: { PORT: String(port) } })
  t.teardown(() => proc.stop())
  await proc.waitForLine((l) => l.msg === 'all workers ready', 60_000)
  await race(t, `http://127.0.0.1:${port}`, 'logout-all')
})

t.test('RedisStore alone: a session read before a destroy is not recreated by the write that follows', async (t) => {
  const prefix = uniquePrefix('revoke-store')
  const redis = redisFor(t, prefix)
  const store = new RedisStore({ client: redis, prefix, userKey: 'user' })
  const call = (method, ...args): Promise<any> => new Promise((resolve, reject) => store[method](...args, (err, value) => err ? reject(err) : resolve(value)))
  await redis.set(`${prefix}sess:abc`, JSON.stringify({ user: 'alice', cookie: { originalMaxAge: 60_000 } }))
  await redis.sadd(`${prefix}user:alice`, 'abc')
  const session = await call('get', 'abc')
  t.equal(session.user, 'alice')
  await call('destroy', 'abc')
  session.visits = 2
  await call('set', 'abc', session)
  t.equal(await redis.exists(`${prefix}sess:abc`), 0, 'still gone')
  await call('set', 'new', { user: 'alice', cookie: { originalMaxAge: 60_000 } })
  t.equal(await redis.exists(`${prefix}sess:new`), 1, 'a brand-new session is created')
  t.equal(await redis.sismember(`${prefix}user:alice`, 'new'), 1, 'and indexed')
})
