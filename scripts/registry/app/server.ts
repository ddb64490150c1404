// The same app in TypeScript, compiled by tsc under strict settings: the
// published .d.ts files must type the options, the worker and the decorators.
import Fastify from 'fastify'
import { boot } from '@corral/cluster-boot'
import { corralHealth, healthAggregator } from '@corral/health'
import corralMetrics, { metricsAggregator } from '@corral/metrics'
import { redisSession, redisSessionPrimary } from '@corral/redis-session'

declare module 'fastify' {
  interface Session {
    visits?: number
  }
}

const started = await boot({
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
    const requests = app.metrics.counter({ name: 'visits_total', help: 'Visits.' })
    app.get('/', async () => ({ slot: worker.slot, pid: process.pid }))
    app.post('/visit', async (request) => {
      requests.inc()
      const visits = (request.session.get('visits') ?? 0) + 1
      request.session.set('visits', visits)
      return { visits }
    })
    return app
  }
})
// runs in the primary and in every worker: each side narrows on role first
if (started.role === 'primary') {
  started.supervisor.on('exit', (worker, info) => {
    if (!info.expected) process.stderr.write(`worker ${worker.slot} (pid ${worker.pid}) exited\n`)
  })
} else {
  started.app.log.info({ slot: started.app.worker?.slot }, 'listening')
}
