import Fastify from 'fastify'
const app = Fastify()
if (process.env.KIND === 'corral') { const { default: m } = await import('@corral/metrics'); await app.register(m) }
if (process.env.KIND === 'fastify-metrics') { const { default: m } = await import('fastify-metrics'); await app.register(m, { endpoint: '/metrics' }) }
const N = Number(process.env.N)
let served = 0
app.get('/', async () => ({ hello: 'world' }))
app.addHook('onClose', async () => {})
app.server.on('request', (req, res) => res.on('finish', () => { if (++served === N) setImmediate(() => process.exit(0)) }))
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
console.log('listening')
