// Hello world with one metrics set-up (KIND), that exits after serving N
// requests: what bench/metrics-instructions.mjs runs under callgrind.
import Fastify from 'fastify'

const app = Fastify()
const kind = process.env.KIND
if (kind === 'corral') {
  const { default: corralMetrics } = await import('@corral/metrics')
  await app.register(corralMetrics)
} else if (kind === 'fastify-metrics') {
  const { default: fastifyMetrics } = await import('fastify-metrics')
  await app.register(fastifyMetrics, { endpoint: '/metrics' })
} else if (kind === 'two-empty-hooks') {
  // the floor for any per-request hook-based plugin: Fastify's own hook machinery
  app.addHook('onRequest', (_request, _reply, done) => done())
  app.addHook('onResponse', (_request, _reply, done) => done())
}
app.get('/', async () => ({ hello: 'world' }))

const N = Number(process.env.N)
let served = 0
app.server.on('request', (_req, res) => res.on('finish', () => { if (++served === N) setImmediate(() => process.exit(0)) }))
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
console.log('listening')
