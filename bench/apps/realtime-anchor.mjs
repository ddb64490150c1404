// The anchor of the realtime suite, as Socket.IO's docs set it up under
// node:cluster: @socket.io/sticky in the primary (least-connection), Socket.IO
// on every worker, broadcasts between workers through @socket.io/cluster-adapter.
import cluster from 'node:cluster'
import http from 'node:http'
import { Server } from 'socket.io'
import { setupMaster, setupWorker } from '@socket.io/sticky'
import { createAdapter, setupPrimary } from '@socket.io/cluster-adapter'
import { attach } from './realtime-handlers.mjs'

if (cluster.isPrimary) {
  const httpServer = http.createServer()
  setupMaster(httpServer, { loadBalancingMethod: 'least-connection' })
  setupPrimary()
  cluster.setupPrimary({ serialization: 'advanced' })
  // @socket.io/sticky hands a connection to a worker at once, ready or not: one sent before the
  // worker listens for it is lost, so the primary listens once every worker said it is ready
  let ready = 0
  for (let i = 0; i < Number(process.env.WORKERS); i++) {
    cluster.fork().on('message', (message) => {
      if (message === 'ready' && ++ready === Number(process.env.WORKERS)) httpServer.listen(Number(process.env.PORT), '127.0.0.1')
    })
  }
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM')
    process.exit(0)
  })
} else {
  const httpServer = http.createServer((req, res) => res.end('ok'))
  const io = new Server(httpServer, { adapter: createAdapter() })
  setupWorker(io)
  attach(io)
  process.send('ready')
  process.on('disconnect', () => process.exit(0))
  process.on('SIGTERM', () => process.exit(0))
}
