import t from 'tap'
import Fastify from 'fastify'
import { redisSession, redisSessionPrimary } from '@corral/redis-session'
import { SECRET } from './fixtures/session-app.js'

t.test('a bad option fails at start-up, naming it (a non-integer cookie.maxAge too)', async (t) => {
  const cases = [
    [{ redis: 42 }, 'redis'],
    [{ redis: 'localhost:6379' }, 'redis'],
    [{ prefix: '' }, 'prefix'],
    [{ cookieName: 7 }, 'cookieName'],
    [{ cookie: 'yes' }, 'cookie'],
    [{ cookie: { maxAge: -1 } }, 'cookie.maxAge'],
    [{ cookie: { maxAge: 1.5 } }, 'cookie.maxAge'],
    [{ cookie: { maxAge: '1d' } }, 'cookie.maxAge'],
    [{ maxLifetime: 0 }, 'maxLifetime'],
    [{ maxLifetime: 1000.5 }, 'maxLifetime'],
    [{ maxBytes: -1 }, 'maxBytes'],
    [{ cache: { maxBytes: 'lots' } }, 'cache.maxBytes'],
    [{ cache: { lockTtl: 10.5 } }, 'cache.lockTtl'],
    [{ cookie: { sameSite: 'loose' } }, 'cookie.sameSite'],
    [{ cookie: { sameSite: 'none' } }, 'cookie.sameSite'],
    [{ cookie: { secure: 'sometimes' } }, 'cookie.secure'],
    [{ cookie: { httpOnly: 'no' } }, 'cookie.httpOnly'],
    [{ cookie: { domain: '' } }, 'cookie.domain'],
    [{ userKey: '' }, 'userKey'],
    [{ commandTimeout: 0 }, 'commandTimeout'],
    [{ maxSessions: Infinity }, 'maxSessions'],
    [{ cache: 'big' }, 'cache'],
    [{ cache: { ttl: 'soon' } }, 'cache.ttl'],
    [{ bus: 'on' }, 'bus']
  ]
  for (const [options, name] of cases) {
    const app = Fastify()
    app.register(redisSession, { secret: SECRET, ...options })
    const err = await app.ready().then(() => null, (e) => e)
    t.equal(err?.code, 'CORRAL_SESSION_INVALID_OPTION', JSON.stringify(options))
    t.match(err?.message, `"${name}"`)
    await app.close()
  }
  const app = Fastify()
  app.register(redisSession, null)
  t.match(await app.ready().catch((e) => e), { code: 'CORRAL_SESSION_INVALID_OPTION' })
})

t.test('secure cookies in production, and sameSite none with secure', async (t) => {
  const previous = process.env.NODE_ENV
  process.env.NODE_ENV = 'production'
  t.teardown(() => { process.env.NODE_ENV = previous })
  const app = Fastify()
  await app.register(redisSession, { secret: SECRET, cookie: { sameSite: 'none' } })
  app.get('/', async (request) => { request.session.set('x', 1); return {} })
  await app.ready()
  t.teardown(() => app.close())
  // an http request cannot carry a secure cookie: @fastify/session declines to set it
  const res = await app.inject({ url: '/' })
  t.equal(res.headers['set-cookie'], undefined)
})

t.test('the cache and the bus can be left out', async (t) => {
  const app = Fastify()
  await app.register(redisSession, { secret: SECRET, cache: false, bus: false })
  t.teardown(() => app.close())
  t.notOk(app.hasDecorator('cache'))
  t.notOk(app.hasDecorator('bus'))
})

t.test('redisSessionPrimary belongs on the cluster-boot admin instance (the one with `supervisor`)', async (t) => {
  const app = Fastify()
  app.register(redisSessionPrimary)
  t.match(await app.ready().catch((e) => e), { code: 'FST_ERR_PLUGIN_NOT_PRESENT_IN_INSTANCE', message: /'supervisor' required by '@corral\/redis-session-primary'/ })
})

t.test('redisSessionPrimary checks maxSessions, maxBytes and cache.maxBytes, naming them', async (t) => {
  for (const [options, name] of [[{ maxSessions: 1.5 }, 'maxSessions'], [{ maxBytes: 0 }, 'maxBytes'], [{ cache: { maxBytes: -5 } }, 'cache.maxBytes']]) {
    const admin = Fastify()
    // validation comes before the supervisor's bus is used
    admin.decorate('supervisor', {})
    admin.register(redisSessionPrimary, options)
    const err = await admin.ready().then(() => null, (e) => e)
    t.equal(err?.code, 'CORRAL_SESSION_INVALID_OPTION', JSON.stringify(options))
    t.match(err?.message, `"${name}"`)
    await admin.close()
  }
})
