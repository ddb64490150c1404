import Fastify, { type FastifyInstance } from 'fastify'
import type { WorkerContext } from '@corral/cluster-boot'
import { healthFeature } from './features/health.js'
import { liveFeature } from './features/live.js'
import { metricsFeature } from './features/metrics.js'
import { sessionsFeature } from './features/sessions.js'
import { heavyRoutes } from './routes/heavy.js'

/** Builds the example app; cluster-boot calls it in every worker. */
export async function buildApp (worker?: WorkerContext): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })

  await metricsFeature(app)
  await healthFeature(app)
  await sessionsFeature(app)
  await liveFeature(app, worker)
  app.get('/', async () => ({ hello: 'corral', pid: process.pid, slot: worker?.slot ?? null }))
  await app.register(heavyRoutes)
  return app
}

// `corral start dist/app.js` builds each worker with it, as boot() in server.ts does
export default buildApp
