import t from 'tap'
import { RedisStore } from '@corral/redis-session'
import { REDIS_URL } from '@corral/test-helpers'
import { buildSessionApp, sessionCookie, sessionIdOf } from './fixtures/session-app.js'
import { redisFor, uniquePrefix } from './fixtures/redis.js'

// cookies another Redis client (or an older version) may have stored: each one
// made every request carrying that session hang, or answer 503 forever
const BAD_COOKIES = {
  'an originalMaxAge past any Date': '{"cookie":{"originalMaxAge":1e20},"user":"u1"}',
  'a negative originalMaxAge': '{"cookie":{"originalMaxAge":-5},"user":"u1"}',
  'an originalMaxAge over 400 days': '{"cookie":{"originalMaxAge":34560000001},"user":"u1"}',
  'a fractional originalMaxAge': '{"cookie":{"originalMaxAge":1.5},"user":"u1"}',
  'an expires that is no date': '{"cookie":{"expires":"garbage"},"user":"u1"}',
  'an expires past any Date': '{"cookie":{"expires":"+999999-01-01T00:00:00.000Z"},"user":"u1"}'
}

const within = (promise, ms) => Promise.race([
  promise,
  new Promise((resolve, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())
])

t.test('a stored session with an invalid cookie is answered at once as no session, never a hang or a 503', async (t) => {
  const prefix = uniquePrefix('bad-cookie')
  const redis = redisFor(t, prefix)
  const app = await buildSessionApp({ redis: REDIS_URL, keyPrefix: prefix })
  t.teardown(() => app.close())
  for (const [name, value] of Object.entries(BAD_COOKIES)) {
    const cookie = sessionCookie(await app.inject({ method: 'POST', url: '/login', payload: { user: 'alice' } }))
    await redis.set(`${prefix}sess:${sessionIdOf(cookie)}`, value)
    for (let i = 0; i < 2; i++) {
      const res = await within(app.inject({ url: '/me', headers: { cookie } }), 1000)
      t.equal(res.statusCode, 200, `${name}: answered 200`)
      t.same(res.json(), { user: null }, `${name}: anonymous`)
    }
  }
})

t.test('a get callback that throws on a session is answered again with no session: the request never hangs', async (t) => {
  const prefix = uniquePrefix('callback-retry')
  const redis = redisFor(t, prefix)
  const store = new RedisStore({ client: redis, prefix, log: { warn () {}, error () {} } })
  await redis.set(`${prefix}sess:abc`, '{"user":"alice"}')
  const calls: any[] = []
  await within(new Promise<void>((resolve) => store.get('abc', (err, session) => {
    calls.push([err ?? null, session])
    if (session) throw new Error('the Session constructor broke')
    resolve()
  })), 1000)
  t.equal(calls.length, 2)
  t.same(calls[1], [null, null], 'answered again with no session')
})
