// A clustered app written the way the package READMEs show, in ESM.
import Fastify from 'fastify'
import { boot } from '@corral/cluster-boot'
import { corralHealth, healthAggregator } from '@corral/health'
import corralMetrics, { metricsAggregator } from '@corral/metrics'
import { redisSession, redisSessionPrimary } from '@corral/redis-session'

await boot({
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
})
