import t from 'tap'
import { REDIS_URL, sleep, waitFor } from '@corral/test-helpers'
import { buildSessionApp, sessionCookie, sessionIdOf } from './fixtures/session-app.js'
import { redisFor, uniquePrefix } from './fixtures/redis.js'

async function setup (t, options = {}) {
  const prefix = uniquePrefix('sessions')
  const redis = redisFor(t, prefix)
  const app = await buildSessionApp({ redis: REDIS_URL, keyPrefix: prefix, ...options })
  t.teardown(() => app.close())
  const login = async (user: string, cookie?: string) => {
    const res = await app.inject({ method: 'POST', url: '/login', payload: { user }, headers: cookie ? { cookie } : {} })
    return sessionCookie(res)
  }
  const me = (cookie?: string, url = '/me') => app.inject({ url, headers: cookie ? { cookie } : {} })
  return { app, redis, prefix, login, me }
}

t.test('a logged-in session is kept in Redis as JSON and follows the user', async (t) => {
  const { app, redis, prefix, login, me } = await setup(t)
  t.equal(app.sessions.kind, 'redis')
  const cookie = await login('alice')
  t.ok(cookie, 'login sets the session cookie')
  const first = await me(cookie)
  t.same(first.json(), { user: 'alice', visits: 1, slot: null })
  t.same((await me(cookie)).json(), { user: 'alice', visits: 2, slot: null })

  const stored = JSON.parse(await redis.get(`${prefix}sess:${sessionIdOf(cookie)}`))
  t.equal(stored.user, 'alice')
  t.equal(stored.visits, 2)
  t.equal(stored.cookie.originalMaxAge, 86_400_000, 'the TTL is the cookie maxAge')
  t.ok(await redis.sismember(`${prefix}user:alice`, sessionIdOf(cookie)), 'indexed under the user')
})

t.test('the cookie is signed, httpOnly, sameSite=lax, and not secure outside production', async (t) => {
  const { login } = await setup(t)
  const app = await buildSessionApp({ redis: REDIS_URL, keyPrefix: uniquePrefix('flags') })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/login', payload: { user: 'alice' } })
  const line: string = [].concat(res.headers['set-cookie'])[0]
  t.match(line, /HttpOnly/)
  t.match(line, /SameSite=Lax/)
  t.match(line, /Expires=/, 'a rolling expiry of maxAge')
  t.notMatch(line, /Secure/)
  t.match(decodeURIComponent(line.split(';')[0]), /^sessionId=[^.]+\.[\w+/-]+$/, 'id.signature')
  t.ok(await login('bob'))
})

t.test('anonymous visitors get no cookie and no store entry (saveUninitialized: false)', async (t) => {
  const { me, redis, prefix } = await setup(t)
  const res = await me()
  t.same(res.json(), { user: null })
  t.equal(res.headers['set-cookie'], undefined)
  const [, keys] = await redis.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 100)
  t.same(keys, [])
})

t.test('login replaces the session id and removes the old one from the store (no fixation)', async (t) => {
  const { redis, prefix, login, me } = await setup(t)
  const before = await login('alice')
  const after = await login('mallory', before)
  t.not(sessionIdOf(after), sessionIdOf(before))
  t.equal(await redis.exists(`${prefix}sess:${sessionIdOf(before)}`), 0, 'old id gone')
  t.same((await me(before)).json(), { user: null }, 'the old cookie is worth nothing')
  t.equal((await me(after)).json().user, 'mallory')
})

t.test('an unchanged session is not written back; the read slides its TTL', async (t) => {
  const { redis, prefix, login, me } = await setup(t)
  const cookie = await login('alice')
  const key = `${prefix}sess:${sessionIdOf(cookie)}`
  // a field only Redis has: a full write-back would lose it
  const stored = JSON.parse(await redis.get(key))
  stored.marker = 'kept'
  await redis.set(key, JSON.stringify(stored), 'PX', 5000)

  const res = await me(cookie, '/peek')
  t.same(res.json(), { user: 'alice', visits: 0 })
  t.ok(sessionCookie(res), 'the rolling cookie is still renewed')
  t.equal(JSON.parse(await redis.get(key)).marker, 'kept', 'not rewritten')
  t.ok(await redis.pttl(key) > 86_000_000, 'TTL back to the maxAge')

  await me(cookie)
  t.equal(JSON.parse(await redis.get(key)).visits, 1, 'a change is written')
})

t.test('a session expires with its maxAge', async (t) => {
  const { redis, prefix, login, me } = await setup(t, { cookie: { maxAge: 600 } })
  const cookie = await login('alice')
  const pttl = await redis.pttl(`${prefix}sess:${sessionIdOf(cookie)}`)
  t.ok(pttl > 0 && pttl <= 600, `PTTL ${pttl}`)
  await sleep(400)
  t.equal((await me(cookie)).json().user, 'alice', 'a request within maxAge keeps it (rolling)')
  await sleep(400)
  t.equal((await me(cookie)).json().user, 'alice', 'still alive: the last request slid it')
  await sleep(800)
  t.same((await me(cookie)).json(), { user: null }, 'gone after maxAge of silence')
})

t.test('touch refreshes the TTL without rewriting', async (t) => {
  const { app, redis, prefix, login } = await setup(t)
  const cookie = await login('alice')
  const id = sessionIdOf(cookie)
  const key = `${prefix}sess:${id}`
  await redis.pexpire(key, 1000)
  const before = await redis.get(key)
  await new Promise<void>((resolve, reject) => app.sessions.store.touch(id, { cookie: { originalMaxAge: 50_000 } }, (err) => err ? reject(err) : resolve()))
  t.ok(await redis.pttl(key) > 40_000)
  t.equal(await redis.get(key), before)
})

t.test('logout removes the session', async (t) => {
  const { redis, prefix, login, me, app } = await setup(t)
  const cookie = await login('alice')
  await app.inject({ method: 'POST', url: '/logout', headers: { cookie } })
  t.equal(await redis.exists(`${prefix}sess:${sessionIdOf(cookie)}`), 0)
  t.same((await me(cookie)).json(), { user: null })
})

t.test('destroyAllFor logs a user out of every session, and only that user', async (t) => {
  const { app, login, me } = await setup(t)
  const laptop = await login('alice')
  const phone = await login('alice')
  const bob = await login('bob')
  const res = await app.inject({ method: 'POST', url: '/logout-all', headers: { cookie: phone } })
  t.same(res.json(), { removed: 2 })
  t.same((await me(laptop)).json(), { user: null })
  t.same((await me(phone)).json(), { user: null })
  t.equal((await me(bob)).json().user, 'bob')
  t.equal(await app.sessions.destroyAllFor('nobody'), 0)
})

t.test('a login prunes sessions of the user that expired from the index', async (t) => {
  const { redis, prefix, login } = await setup(t)
  const old = await login('alice')
  await redis.del(`${prefix}sess:${sessionIdOf(old)}`)
  const fresh = await login('alice')
  // after the answer: the login does not wait for it
  await waitFor(async () => (await redis.scard(`${prefix}user:alice`)) === 1, { message: 'pruned' })
  t.same(await redis.smembers(`${prefix}user:alice`), [sessionIdOf(fresh)])
})

t.test('two app instances on one Redis share sessions', async (t) => {
  const { login, prefix } = await setup(t)
  const other = await buildSessionApp({ redis: REDIS_URL, keyPrefix: prefix })
  t.teardown(() => other.close())
  const cookie = await login('alice')
  const res = await other.inject({ url: '/me', headers: { cookie } })
  t.same(res.json(), { user: 'alice', visits: 1, slot: null })
})

t.test('a session value that does not parse is no session, and is logged', async (t) => {
  const prefix = uniquePrefix('garbage')
  const redis = redisFor(t, prefix)
  const logs: any[] = []
  const stream = { write: (line) => logs.push(JSON.parse(line)) }
  const app = await buildSessionApp({ redis: REDIS_URL, keyPrefix: prefix }, { logger: { level: 'warn', stream } })
  t.teardown(() => app.close())
  const cookie = sessionCookie(await app.inject({ method: 'POST', url: '/login', payload: { user: 'alice' } }))
  for (const garbage of ['{not json', '"a string"', 'null', '[1,2]']) {
    await redis.set(`${prefix}sess:${sessionIdOf(cookie)}`, garbage)
    const res = await app.inject({ url: '/me', headers: { cookie } })
    t.equal(res.statusCode, 200, garbage)
    t.same(res.json(), { user: null })
  }
  const warned = logs.filter((l) => l.msg.includes('does not parse'))
  t.equal(warned.length, 4)
  t.notOk(JSON.stringify(warned).includes(sessionIdOf(cookie)), 'the session id (a secret) is not logged')
})

t.test('an ioredis client of your own is used and left open', async (t) => {
  const prefix = uniquePrefix('own-client')
  const redis = redisFor(t, prefix)
  const app = await buildSessionApp({ redis, keyPrefix: prefix })
  const cookie = sessionCookie(await app.inject({ method: 'POST', url: '/login', payload: { user: 'alice' } }))
  t.equal((await app.inject({ url: '/me', headers: { cookie } })).json().user, 'alice')
  await app.close()
  t.equal(await redis.ping(), 'PONG', 'still open after the app closed')
})
