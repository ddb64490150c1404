import t from 'tap'
import { REDIS_URL } from '@corral/test-helpers'
import { buildSessionApp, sessionCookie, sessionIdOf } from './fixtures/session-app.js'
import { redisFor, uniquePrefix } from './fixtures/redis.js'

// A login forgets the user's expired sessions from the index: tens of
// thousands of EXISTS for a user with that many stale entries. That work is
// not the login's: the login is answered once its session is written.
t.test('a login whose session is written is answered 200, however long forgetting the user\'s stale sessions takes', async (t) => {
  const prefix = uniquePrefix('login-prune')
  const redis = redisFor(t, prefix)
  const index = `${prefix}user:alice`
  const stale = Array.from({ length: 50_000 }, (_, i) => `stale-${i}`)
  for (let i = 0; i < stale.length; i += 5000) await redis.sadd(index, ...stale.slice(i, i + 5000))
  const app = await buildSessionApp({ redis: REDIS_URL, keyPrefix: prefix, commandTimeout: 200 })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/login', payload: { user: 'alice' } })
  t.equal(res.statusCode, 200, 'answered as the write succeeded')
  const id = sessionIdOf(sessionCookie(res))
  t.equal(await redis.exists(`${prefix}sess:${id}`), 1, 'the session is stored')
  t.equal(await redis.sismember(index, id), 1, 'and listed')
  // the pruning still happens, after the answer
  for (let i = 0; i < 100 && await redis.scard(index) > 1; i++) await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(await redis.scard(index), 1, 'the stale entries are forgotten')
})
