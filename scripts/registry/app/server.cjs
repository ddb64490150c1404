// The same app in CommonJS: require() of the ESM-only packages, which Node
// supports from 20.19 and 22.12 (require(esm)).
const Fastify = require('fastify')
const { boot } = require('@corral/cluster-boot')
const { corralHealth, healthAggregator } = require('@corral/health')
const { corralMetrics, metricsAggregator } = require('@corral/metrics')
const { redisSession, redisSessionPrimary } = require('@corral/redis-session')

boot({
  workers: 2,
  host: '127.0.0.1',
  port: Number(process.env.PORT),
  admin: { port: Number(process.env.ADMIN_PORT) },
  primary: async (admin) => {
    await admin.register(metricsAggregator)
    await admin.register(healthAggregator)
    await admin.register(redisSessionPrimary)
  },
  app: async (worker) => {
    const app = Fastify()
    await app.register(corralMetrics)
    await app.register(corralHealth)
    await app.register(redisSession, { secret: 'registry-check-secret-of-more-than-32-characters' })
    app.get('/', async () => ({ slot: worker.slot, pid: process.pid }))
    app.post('/visit', async (request) => {
      const visits = (request.session.get('visits') ?? 0) + 1
      request.session.set('visits', visits)
      return { visits }
    })
    return app
  }
}).catch((err) => {
  console.error(err)
  process.exit(1)
})
