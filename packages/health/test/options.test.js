import t from 'tap'
import Fastify from 'fastify'
import { corralHealth, healthAggregator } from '@corral/health'

t.test('a bad option fails at start-up, naming it', async (t) => {
  const cases = [
    [{ checks: [] }, 'checks'],
    [{ checks: { db: 'SELECT 1' } }, 'checks.db'],
    [{ checks: { db: { check: () => {}, critical: 'yes' } } }, 'checks.db.critical'],
    [{ checks: { db: { check: () => {}, timeout: 0 } } }, 'checks.db.timeout'],
    [{ checks: { db: { check: () => {}, measurement: '' } } }, 'checks.db.measurement'],
    [{ checks: { 'a b': () => {} } }, 'checks'],
    [{ prefix: 'health' }, 'prefix'],
    [{ paths: { ready: '/r?x' } }, 'paths.ready'],
    [{ paths: { live: '/same', ready: '/same' } }, 'paths'],
    [{ prefix: '' }, 'paths'],
    [{ paths: 'x' }, 'paths'],
    [{ timeout: 0 }, 'timeout'],
    [{ cacheMs: -1 }, 'cacheMs'],
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
  t.match(await app.ready().catch((e) => e), { code: 'FST_ERR_PLUGIN_NOT_PRESENT_IN_INSTANCE', message: /'supervisor' required by '@corral\/health-aggregator'/ })
})
