import t from 'tap'
import Fastify from 'fastify'
import { deprecationWarnings } from '@corral/test-helpers'
import { redisSession, redisSessionPrimary } from '@corral/redis-session'
import { SECRET } from './fixtures/session-app.js'

// the session value these tests write
declare module 'fastify' {
  interface Session {
    x?: number
  }
}

t.test('a bad option fails at start-up, naming it (a non-integer cookie.maxAge too)', async (t) => {
  // wrong on purpose: each case is an option of the wrong type or value
  const cases: Array<[any, string]> = [
    [{ redis: 42 }, 'redis'],
    [{ redis: 'localhost:6379' }, 'redis'],
    [{ keyPrefix: '' }, 'keyPrefix'],
    [{ prefix: 'a:', keyPrefix: 'b:' }, 'prefix'],
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
    [{ retryAfter: 0.5 }, 'retryAfter'],
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
  // @ts-expect-error wrong on purpose
  app.register(redisSession, null)
  t.match(await app.ready().then(undefined, (e) => e), { code: 'CORRAL_SESSION_INVALID_OPTION' })
})

t.test('the message says which option, what it must be and what it got, and never shows a secret', async (t) => {
  const app = Fastify()
  app.register(redisSession, { secret: SECRET, commandTimeout: 0 })
  t.match(await app.ready().then(undefined, (e) => e), { code: 'CORRAL_SESSION_INVALID_OPTION', message: '@corral/redis-session: option "commandTimeout" must be a number above 0 (got 0)' })
  const short = Fastify()
  short.register(redisSession, { secret: 'a-short-secret-value' })
  const err = await short.ready().then(undefined, (e) => e)
  t.equal(err.message, '@corral/redis-session: option "secret" must be at least 32 characters long (got 20 characters, not shown)')
})

t.test('the old name prefix still sets the key prefix, with one deprecation warning', async (t) => {
  const warnings = deprecationWarnings(t)
  for (let i = 0; i < 2; i++) {
    const app = Fastify()
    await app.register(redisSession, { secret: SECRET, prefix: 'old-name:', bus: false })
    await app.close()
  }
  t.same(await warnings.settled(), ['@corral/redis-session: option "prefix" is deprecated: use "keyPrefix"'])
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
  t.match(await app.ready().then(undefined, (e) => e), { code: 'FST_ERR_PLUGIN_NOT_PRESENT_IN_INSTANCE', message: /'supervisor' required by '@corral\/redis-session-primary'/ })
})

t.test('redisSessionPrimary checks maxSessions, maxBytes and cache.maxBytes, naming them', async (t) => {
  // wrong on purpose
  const cases: Array<[any, string]> = [[{ maxSessions: 1.5 }, 'maxSessions'], [{ maxBytes: 0 }, 'maxBytes'], [{ cache: { maxBytes: -5 } }, 'cache.maxBytes']]
  for (const [options, name] of cases) {
    const admin = Fastify()
    // validation comes before the supervisor's bus is used
    // @ts-expect-error a stand-in: validation comes before the supervisor is used
    admin.decorate('supervisor', {})
    admin.register(redisSessionPrimary, options)
    const err = await admin.ready().then(() => null, (e) => e)
    t.equal(err?.code, 'CORRAL_SESSION_INVALID_OPTION', JSON.stringify(options))
    t.match(err?.message, `"${name}"`)
    await admin.close()
  }
})
