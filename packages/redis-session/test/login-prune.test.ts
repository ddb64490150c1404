import t from 'tap'
import { REDIS_URL, waitFor } from '@corral/test-helpers'
import { buildSessionApp, sessionCookie, sessionIdOf } from './fixtures/session-app.js'
import { redisFor, uniquePrefix } from './fixtures/redis.js'

// A login forgets the user's expired sessions from the index: thousands of
// EXISTS for a user with that many stale entries. That work is not the
// login's: the login is answered once its session is written.
t.test('a login whose session is written is answered 200, however long forgetting the user\'s stale sessions takes', async (t) => {
  const prefix = uniquePrefix('login-prune')
  const redis = redisFor(t, prefix)
  const index = `${prefix}user:alice`
  // 25 batches of EXISTS. Each command keeps the default commandTimeout: the
  // pruning gives up at its first timed-out batch (the next login resumes it),
  // so a bound tighter than a loaded machine's round trips would leave entries
  const stale = Array.from({ length: 5000 }, (_, i) => `stale-${i}`)
  await redis.sadd(index, ...stale)
  const app = await buildSessionApp({ redis: REDIS_URL, keyPrefix: prefix })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/login', payload: { user: 'alice' } })
  t.equal(res.statusCode, 200, 'answered as the write succeeded')
  // one round trip after the answer, against the pruning's 26 in a row
  t.ok(await redis.scard(index) > 1, 'answered before the pruning ended')
  const id = sessionIdOf(sessionCookie(res))
  t.equal(await redis.exists(`${prefix}sess:${id}`), 1, 'the session is stored')
  t.equal(await redis.sismember(index, id), 1, 'and listed')
  // the pruning still happens, after the answer
  await waitFor(async () => await redis.scard(index) === 1, { message: 'the stale entries forgotten' })
  t.same(await redis.smembers(index), [id], 'only the live session is left')
})
