import t from 'tap'
import { REDIS_URL, sleep } from '@corral/test-helpers'
import { buildSessionApp, sessionCookie, sessionIdOf } from './fixtures/session-app.js'
import { redisFor, uniquePrefix } from './fixtures/redis.js'

const TTL = 400

async function setup (t) {
  const prefix = uniquePrefix('index')
  const redis = redisFor(t, prefix)
  const app = await buildSessionApp({ redis: REDIS_URL, keyPrefix: prefix, cookie: { maxAge: TTL } })
  // a session of its own, longer lifetime than the store's TTL ("remember me")
  app.post('/remember', async (request) => {
    request.session.cookie.maxAge = 5 * TTL
    return { ok: true }
  })
  t.teardown(() => app.close())
  const cookie = sessionCookie(await app.inject({ method: 'POST', url: '/login', payload: { user: 'alice' } }))
  const session = `${prefix}sess:${sessionIdOf(cookie)}`
  const index = `${prefix}user:alice`
  /** ms the index outlives the session by, now (negative: it dies first) */
  const margin = async () => (await redis.pttl(index)) - (await redis.pttl(session))
  return { app, redis, cookie, margin, index, session }
}

t.test('the user index outlives every session it lists while reads slide them (short TTLs)', async (t) => {
  const { app, cookie, margin } = await setup(t)
  const short: number[] = []
  for (let i = 0; i < 15; i++) {
    await sleep(40)
    const res = await app.inject({ url: '/peek', headers: { cookie } })
    t.equal(res.json().user, 'alice')
    const m = await margin()
    if (m < 0) short.push(m)
  }
  t.same(short, [], 'after every read, the index lives at least as long as the session')
  t.equal(await app.sessions.destroyAllFor('alice'), 1, 'log out everywhere still finds it')
})

t.test('the user index outlives a session whose own maxAge is longer than the store TTL', async (t) => {
  const { app, cookie, margin } = await setup(t)
  t.equal((await app.inject({ method: 'POST', url: '/remember', headers: { cookie } })).statusCode, 200)
  t.ok(await margin() >= 0, 'right after the session got its longer lifetime')
  for (let i = 0; i < 5; i++) {
    await sleep(50)
    await app.inject({ url: '/peek', headers: { cookie } })
    t.ok(await margin() >= 0, `after read ${i + 1}`)
  }
  // past the store TTL: only the session's own lifetime keeps it
  await sleep(TTL + 100)
  t.equal((await app.inject({ url: '/peek', headers: { cookie } })).json().user, 'alice', 'alive past the store TTL')
  t.equal(await app.sessions.destroyAllFor('alice'), 1, 'and still in the index')
})

t.test('a read puts a live session back into an index that was lost', async (t) => {
  const { app, redis, cookie, index } = await setup(t)
  await redis.del(index)
  t.equal((await app.inject({ url: '/peek', headers: { cookie } })).json().user, 'alice')
  t.equal(await redis.sismember(index, sessionIdOf(cookie)), 1, 'listed again')
  t.ok(await redis.pttl(index) >= TTL, 'with a TTL past the session\'s')
  t.equal(await app.sessions.destroyAllFor('alice'), 1)
})
