import t from 'tap'
import Fastify from 'fastify'
import { redisSession } from '@corral/redis-session'
import { assertDecorated, startRedisServer } from '@corral/test-helpers'
import { SECRET, buildSessionApp, sessionCookie, sessionIdOf } from './fixtures/session-app.js'

t.test('a 503 gives the client a code and a generic message; the reason goes to the log, without the session id', async (t) => {
  const server = await startRedisServer()
  t.teardown(() => server.close())
  const logs: any[] = []
  const app = await buildSessionApp({ redis: server.url, keyPrefix: 'unavailable:' }, { logger: { level: 'info', stream: { write: (l) => logs.push(JSON.parse(l)) } } })
  t.teardown(() => app.close())
  const cookie = sessionCookie(await app.inject({ method: 'POST', url: '/login', payload: { user: 'alice' } }))
  await server.stop()
  const res = await app.inject({ url: '/me', headers: { cookie } })
  t.equal(res.statusCode, 503)
  t.same(res.json(), {
    statusCode: 503,
    code: 'CORRAL_SESSION_STORE_UNAVAILABLE',
    error: 'Service Unavailable',
    message: 'Session store unavailable'
  }, 'nothing of the backend in the body')
  const reasons = logs.filter((l) => l.msg.startsWith('session store unavailable'))
  t.ok(reasons.length > 0 && reasons.every((l) => typeof l.reason === 'string' && l.reason.length > 0), 'the reason is logged')
  t.notOk(JSON.stringify(logs).includes(sessionIdOf(cookie)), 'no session id in the logs')
  await server.start() // the app's client closes cleanly
})

t.test('a cache error reaching a client carries a generic message, the reason as its cause', async (t) => {
  const server = await startRedisServer()
  t.teardown(() => server.close())
  const app = Fastify({ logger: false })
  await app.register(redisSession, { secret: SECRET, bus: false, redis: server.url, keyPrefix: 'unavailable:' })
  assertDecorated(app, 'cache')
  app.get('/cached', async () => app.cache.get('k'))
  t.teardown(() => app.close())
  await server.stop()
  const res = await app.inject({ url: '/cached' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().message, 'Cache unavailable')
  const err: any = await app.cache.get('k').catch((e) => e)
  t.equal(err.code, 'CORRAL_CACHE_UNAVAILABLE')
  t.ok(err.cause?.message, `the reason rides along: ${err.cause?.message}`)
  await server.start()
})
