// cluster-boot serving the same app.
import { boot } from '@corral/cluster-boot'
import hello from './hello.mjs'

await boot({
  app: hello,
  workers: Number(process.env.WORKERS),
  port: Number(process.env.PORT),
  // unset or empty: cluster-boot's own default
  scheduling: process.env.SCHEDULING || undefined,
  sticky: process.env.STICKY ? JSON.parse(process.env.STICKY) : undefined,
  logger: { level: 'warn' },
  admin: process.env.ADMIN_PORT ? { port: Number(process.env.ADMIN_PORT) } : false
})
