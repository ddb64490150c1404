// Hello world with or without @corral/metrics, alone (no cluster): the server
// to profile the per-request cost with, e.g.
//   KIND=corral PORT=3000 node --cpu-prof bench/apps/metrics-hello.mjs
//   KIND: none | corral | http (HTTP metrics only) | process (process metrics only)
// GET /__cpu answers the process's CPU time in µs, to measure CPU per request.
import Fastify from 'fastify'
import corralMetrics from '@corral/metrics'
import { listenAlone } from './hello.mjs'

const kind = process.env.KIND ?? 'corral'
const app = Fastify()
if (kind !== 'none') {
  await app.register(corralMetrics, { httpMetrics: kind !== 'process', defaultMetrics: kind !== 'http' })
}
app.get('/', async () => ({ hello: 'world' }))
app.get('/__cpu', async () => { const { user, system } = process.cpuUsage(); return { us: user + system } })
await listenAlone(app)
