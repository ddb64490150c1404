import t from 'tap'
import { startRedisServer, waitFor } from '@corral/test-helpers'
import { buildSessionApp, sessionCookie } from './fixtures/session-app.js'

// a Redis of our own, to stop and hang at will
const server = await startRedisServer()
t.teardown(() => server.close())
const app = await buildSessionApp({ redis: server.url, keyPrefix: 'outage:' })
t.teardown(() => app.close())
const cookie = sessionCookie(await app.inject({ method: 'POST', url: '/login', payload: { user: 'alice' } }))
const me = () => app.inject({ url: '/me', headers: { cookie } })

t.test('a hung Redis gives a 503 with Retry-After in about a second, and the session survives', async (t) => {
  server.pause()
  try {
    const started = Date.now()
    const res = await me()
    const took = Date.now() - started
    t.equal(res.statusCode, 503)
    t.equal(res.headers['retry-after'], '1')
    t.equal(res.json().code, 'CORRAL_SESSION_STORE_UNAVAILABLE')
    t.equal(res.headers['set-cookie'], undefined, 'no new session, no cleared cookie: the user stays logged in')
    t.ok(took < 3000, `answered in ${took} ms`)
    const anonymous = await app.inject({ url: '/me' })
    t.equal(anonymous.statusCode, 200, 'a request without a session does not need Redis')
  } finally {
    server.resume()
  }
  await waitFor(async () => (await me()).statusCode === 200, { message: 'Redis back' })
  t.equal((await me()).json().user, 'alice', 'nothing lost')
})

t.test('a stopped Redis gives 503s, never a crash, and service comes back by itself', async (t) => {
  await server.stop()
  const res = await me()
  t.equal(res.statusCode, 503)
  const login = await app.inject({ method: 'POST', url: '/login', payload: { user: 'bob' }, headers: { cookie } })
  t.equal(login.statusCode, 503, 'a login that cannot be stored is not acknowledged')
  t.equal(login.headers['set-cookie'], undefined)

  await server.start()
  // this Redis keeps nothing on disk: what matters is that service resumes unaided
  const again = await waitFor(async () => {
    const r = await app.inject({ method: 'POST', url: '/login', payload: { user: 'bob' } })
    return r.statusCode === 200 && r
  }, { timeout: 10_000, message: 'login after Redis restarted' })
  const bob = sessionCookie(again)
  t.equal((await app.inject({ url: '/me', headers: { cookie: bob } })).json().user, 'bob')
})
