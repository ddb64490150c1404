// Hello world alone (no cluster), with or without @corral/metrics: the server
// to profile the per-request cost with, e.g.
//   KIND=corral PORT=3000 node --cpu-prof bench/apps/metrics-hello.mjs
//   KIND: none | hooks (an empty onRequest and onResponse hook) | corral
//         | http (HTTP metrics only) | process (process metrics only)
//   METRICS_MODULE: another build of the package (a path to its index.js), to
//   compare two builds side by side
// GET /__cpu answers the process's CPU time in µs, to measure CPU per request.
import { pathToFileURL } from 'node:url'
import Fastify from 'fastify'
import { listenAlone } from './hello.mjs'

const kind = process.env.KIND ?? 'corral'
const app = Fastify()
if (kind === 'hooks') {
  app.addHook('onRequest', (request, reply, done) => { done() })
  app.addHook('onResponse', (request, reply, done) => { done() })
} else if (kind !== 'none') {
  const { default: corralMetrics } = await import(process.env.METRICS_MODULE ? pathToFileURL(process.env.METRICS_MODULE).href : '@corral/metrics')
  await app.register(corralMetrics, { httpMetrics: kind !== 'process', defaultMetrics: kind !== 'http' })
}
app.get('/', async () => ({ hello: 'world' }))
app.get('/__cpu', async () => { const { user, system } = process.cpuUsage(); return { us: user + system } })
await listenAlone(app)
