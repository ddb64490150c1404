import t from 'tap'
import { REDIS_URL, sleep } from '@corral/test-helpers'
import { buildSessionApp, sessionCookie } from './fixtures/session-app.js'
import { redisFor, uniquePrefix } from './fixtures/redis.js'

const setCookie = (res) => ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('sessionId='))

t.test('cookie attributes come from the current configuration, not from what was stored with the session', async (t) => {
  const prefix = uniquePrefix('cookie-config')
  redisFor(t, prefix)
  const before = await buildSessionApp({ redis: REDIS_URL, keyPrefix: prefix, cookie: { sameSite: 'lax' } })
  t.teardown(() => before.close())
  const cookie = sessionCookie(await before.inject({ method: 'POST', url: '/login', payload: { user: 'alice' } }))
  t.match(setCookie(await before.inject({ url: '/me', headers: { cookie } })), /SameSite=Lax/)

  // the same sessions, after a deploy that tightened the cookie
  const after = await buildSessionApp({ redis: REDIS_URL, keyPrefix: prefix, cookie: { sameSite: 'strict', domain: 'example.test', httpOnly: true } })
  t.teardown(() => after.close())
  const res = await after.inject({ url: '/me', headers: { cookie } })
  t.equal(res.json().user, 'alice', 'still logged in')
  const line = setCookie(res)
  t.match(line, /SameSite=Strict/)
  t.match(line, /Domain=example\.test/)
  t.match(line, /HttpOnly/)
})

t.test('maxLifetime: a session used all the time is dead once it is older than maxLifetime', async (t) => {
  const prefix = uniquePrefix('max-lifetime')
  const redis = redisFor(t, prefix)
  const app = await buildSessionApp({ redis: REDIS_URL, keyPrefix: prefix, maxLifetime: 1000 })
  t.teardown(() => app.close())
  const cookie = sessionCookie(await app.inject({ method: 'POST', url: '/login', payload: { user: 'alice' } }))
  const loggedIn = Date.now()
  t.equal((await app.inject({ url: '/me', headers: { cookie } })).json().user, 'alice')
  const key = `${prefix}sess:${cookie && decodeURIComponent(cookie.slice(10)).split('.')[0]}`
  t.ok(await redis.pttl(key) <= 1000, 'the store TTL never passes the lifetime left')
  let last
  while (Date.now() - loggedIn < 1500) {
    await sleep(100)
    last = (await app.inject({ url: '/me', headers: { cookie } })).json()
  }
  t.same(last, { user: null }, 'logged out after maxLifetime although used every 100 ms')
})
