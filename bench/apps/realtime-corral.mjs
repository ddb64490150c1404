// Corral's side of the realtime suite: cluster-boot with scheduling 'sticky' on
// the Socket.IO sid (each worker issues sids that name its slot), Socket.IO on
// every worker, broadcasts between workers through @socket.io/cluster-adapter.
import Fastify from 'fastify'
import { Server } from 'socket.io'
import { createAdapter, setupPrimary } from '@socket.io/cluster-adapter'
import { boot, stickySid } from '@corral/cluster-boot'
import { attach } from './realtime-handlers.mjs'

await boot({
  workers: Number(process.env.WORKERS),
  port: Number(process.env.PORT),
  scheduling: 'sticky',
  sticky: { key: 'sid' },
  logger: { level: 'warn' },
  admin: false,
  primary: async () => { setupPrimary() },
  app: () => {
    const app = Fastify()
    const io = new Server(app.server, { adapter: createAdapter() })
    io.engine.generateId = () => stickySid()
    attach(io)
    app.addHook('preClose', async () => { io.disconnectSockets(true); io.engine.close() })
    app.get('/', async () => 'ok')
    return app
  }
})
