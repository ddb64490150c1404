// One Fastify process answering /health/ready with a Postgres and a Redis
// check: KIND=corral (@corral/health) or KIND=under-pressure
// (@fastify/under-pressure with an equivalent healthCheck). GET /queries
// tells how many Postgres queries the checks made.
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import pg from 'pg'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 4 })
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
let queries = 0
const counted = { query: (text) => { queries++; return pool.query(text) } }
const app = Fastify()

if (process.env.KIND === 'under-pressure') {
  const { default: underPressure } = await import('@fastify/under-pressure')
  await app.register(underPressure, {
    exposeStatusRoute: { url: '/health/ready', routeOpts: { logLevel: 'silent' } },
    healthCheckInterval: 1000,
    healthCheck: async () => {
      await Promise.all([redis.ping(), counted.query('SELECT 1')])
      return true
    }
  })
} else {
  const { corralHealth, postgresCheck, redisCheck } = await import('@corral/health')
  await app.register(corralHealth, { checkInterval: 1000, checks: { postgres: postgresCheck(counted), redis: redisCheck(redis) } })
}
app.get('/queries', async () => ({ queries }))
app.addHook('onClose', async () => { await pool.end(); redis.disconnect() })

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.on('SIGTERM', () => { app.close().then(() => process.exit(0)) })
