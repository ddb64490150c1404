import t from 'tap'
import Fastify from 'fastify'
import { deprecationWarnings } from '@corral/test-helpers'
import { corralHealth, healthAggregator, type HealthAggregatorOptions } from '@corral/health'

t.test('a bad option fails at start-up, naming it', async (t) => {
  // wrong on purpose: each case is an option of the wrong type or value
  const cases: Array<[any, string]> = [
    [{ checks: [] }, 'checks'],
    [{ checks: { db: 'SELECT 1' } }, 'checks.db'],
    [{ checks: { db: { check: () => {}, critical: 'yes' } } }, 'checks.db.critical'],
    [{ checks: { db: { check: () => {}, timeout: 0 } } }, 'checks.db.timeout'],
    [{ checks: { db: { check: () => {}, measurement: '' } } }, 'checks.db.measurement'],
    [{ checks: { 'a b': () => {} } }, 'checks'],
    [{ routePrefix: 'health' }, 'routePrefix'],
    [{ prefix: '/a', routePrefix: '/b' }, 'prefix'],
    [{ paths: { ready: '/r?x' } }, 'paths.ready'],
    [{ paths: { live: '/same', ready: '/same' } }, 'paths'],
    [{ routePrefix: '' }, 'paths'],
    [{ paths: 'x' }, 'paths'],
    [{ timeout: 0 }, 'timeout'],
    [{ checkInterval: -1 }, 'checkInterval'],
    [{ retryAfter: 1.5 }, 'retryAfter'],
    [{ shutdownDelay: 'soon' }, 'shutdownDelay'],
    [{ retryAfter: 0 }, 'retryAfter'],
    [{ exposeDetails: true }, 'exposeDetails'],
    [{ logProbes: 1 }, 'logProbes'],
    [{ reportInterval: 1 }, 'reportInterval']
  ]
  for (const [options, name] of cases) {
    const app = Fastify()
    app.register(corralHealth, options)
    const err = await app.ready().then(() => null, (e) => e)
    t.equal(err?.code, 'CORRAL_HEALTH_INVALID_OPTION', JSON.stringify(options))
    t.match(err?.message, `"${name}"`)
    await app.close()
  }
})

t.test('healthAggregator belongs on the cluster-boot admin instance (the one with `supervisor`)', async (t) => {
  const app = Fastify()
  app.register(healthAggregator)
  t.match(await app.ready().then(undefined, (e) => e), { code: 'FST_ERR_PLUGIN_NOT_PRESENT_IN_INSTANCE', message: /'supervisor' required by '@corral\/health-aggregator'/ })
})

t.test('options that are not an object fail at start-up', async (t) => {
  const app = Fastify()
  // @ts-expect-error wrong on purpose
  app.register(corralHealth, 'checks')
  t.match(await app.ready().then(undefined, (e) => e), { code: 'CORRAL_HEALTH_INVALID_OPTION', message: /"options"/ })
})

t.test('the message says which option, what it must be and what it got', async (t) => {
  const app = Fastify()
  app.register(corralHealth, { timeout: 0 })
  t.match(await app.ready().then(undefined, (e) => e), { code: 'CORRAL_HEALTH_INVALID_OPTION', message: '@corral/health: option "timeout" must be a number >= 1 (got 0)' })
})

t.test('the old names prefix and cacheMs still work, with one deprecation warning each', async (t) => {
  const warnings = deprecationWarnings(t)
  for (let i = 0; i < 2; i++) {
    const app = Fastify()
    await app.register(corralHealth, { prefix: '/_', cacheMs: 0 })
    t.equal((await app.inject('/_/live')).statusCode, 200, 'prefix is the route prefix')
    await app.close()
  }
  t.same(await warnings.settled(), [
    '@corral/health: option "cacheMs" is deprecated: use "checkInterval"',
    '@corral/health: option "prefix" is deprecated: use "routePrefix"'
  ])
})

t.test('healthAggregator checks its options, naming them', async (t) => {
  const cases: Array<[HealthAggregatorOptions, string]> = [[{ path: 'health' }, 'path'], [{ path: '' }, 'path'], [{ staleAfter: 0 }, 'staleAfter'], [{ retryAfter: 0 }, 'retryAfter']]
  for (const [options, name] of cases) {
    const admin = Fastify()
    // validation comes before the supervisor is used
    admin.decorate('supervisor', {})
    admin.register(healthAggregator, options)
    t.match(await admin.ready().then(undefined, (e) => e), { code: 'CORRAL_HEALTH_INVALID_OPTION', message: `"${name}"` }, name)
    await admin.close()
  }
})
