import { boot, type Scheduling } from '@corral/cluster-boot'
import { buildApp } from './app.js'

// the primary side of metrics, health, sessions and realtime loads by itself (the workers ask for it):
// `primary` is only for admin routes of your own
await boot({
  app: buildApp,
  workers: process.env.WORKERS ?? 2,
  port: process.env.PORT ?? 3000,
  admin: { port: Number(process.env.ADMIN_PORT ?? 3001) },
  // 'sticky' keeps each client on one worker (in-memory state per client); unset: cluster-boot's default
  scheduling: (process.env.SCHEDULING || undefined) as Scheduling | undefined,
  primary: async (admin) => {
    admin.get('/about', async () => ({ app: 'corral example', primaryPid: process.pid, workers: admin.supervisor?.workers().length }))
  }
})
