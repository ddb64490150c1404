import { boot, type Scheduling } from '@corral/cluster-boot'
import { buildApp } from './app.js'
import { healthPrimary } from './features/health.js'
import { livePrimary } from './features/live.js'
import { metricsPrimary } from './features/metrics.js'
import { sessionsPrimary } from './features/sessions.js'

await boot({
  app: buildApp,
  workers: process.env.WORKERS ?? 2,
  port: process.env.PORT ?? 3000,
  admin: { port: Number(process.env.ADMIN_PORT ?? 3001) },
  // 'sticky' keeps each client on one worker (in-memory state per client); unset: cluster-boot's default
  scheduling: (process.env.SCHEDULING || undefined) as Scheduling | undefined,
  primary: async (admin) => {
    await metricsPrimary(admin)
    await healthPrimary(admin)
    await sessionsPrimary(admin)
    await livePrimary(admin)
  }
})
