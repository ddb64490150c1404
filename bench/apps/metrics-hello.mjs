// Hello world with or without @corral/metrics, alone (no cluster): the server
// to profile the per-request cost with, e.g.
//   KIND=corral PORT=3000 node --cpu-prof bench/apps/metrics-hello.mjs
//   KIND: none | corral | http (HTTP metrics only) | process (process metrics only)
//         | hooks (an onRequest and an onResponse hook that do nothing: the floor
//           of any hook-based plugin) | on-request | on-response (one of them)
//   METRICS_MODULE: another build of the package to load (a path), to compare two side by side
// GET /__cpu answers the process's CPU time in µs, to measure CPU per request.
import Fastify from 'fastify'
import { pathToFileURL } from 'node:url'
import { listenAlone } from './hello.mjs'

const kind = process.env.KIND ?? 'corral'
const app = Fastify()
const noop = (request, reply, done) => { done() }
if (kind === 'hooks' || kind === 'on-request') app.addHook('onRequest', noop)
if (kind === 'hooks' || kind === 'on-response') app.addHook('onResponse', noop)
const shared = function () {}
if (kind === 'finish') app.addHook('onRequest', (request, reply, done) => { reply.raw.on('finish', shared); reply.raw.on('error', shared); done() })
if (kind === 'import') await import('@corral/metrics')
if (kind === 'import-cb') await import('@corral/cluster-boot')
if (kind === 'import-prom') await import('prom-client')
if (!['none', 'hooks', 'on-request', 'on-response', 'finish', 'import', 'import-cb', 'import-prom'].includes(kind)) {
  const { default: corralMetrics } = await import(process.env.METRICS_MODULE ? pathToFileURL(process.env.METRICS_MODULE).href : '@corral/metrics')
  await app.register(corralMetrics, { httpMetrics: kind !== 'process' && kind !== 'bare', defaultMetrics: kind !== 'http' && kind !== 'bare' })
}
app.get('/', async () => ({ hello: 'world' }))
app.get('/__cpu', async () => { const { user, system } = process.cpuUsage(); return { us: user + system } })
await listenAlone(app)
