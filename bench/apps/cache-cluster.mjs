// 2 cluster-boot workers with @corral/redis-session's cache: on Redis when
// SESSION_REDIS is set, else in the primary. GET /wrap/:key goes through
// cache.wrap; GET /naive/:key does get, compute, set (what a cache without
// single-flight does). Origin calls are counted in Redis under PREFIX.
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { boot } from '@corral/cluster-boot'
import { redisSession, redisSessionPrimary } from '@corral/redis-session'

const PREFIX = process.env.PREFIX
const ORIGIN_MS = 100

await boot({
  workers: 2,
  port: Number(process.env.PORT),
  logger: { level: 'warn' },
  app: async (worker) => {
    const app = Fastify()
    const counter = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
    app.addHook('onClose', () => counter.quit())
    await app.register(redisSession, {
      secret: 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
      keyPrefix: PREFIX,
      bus: false,
      ...(process.env.SESSION_REDIS ? { redis: process.env.SESSION_REDIS } : {})
    })
    const origin = async () => {
      await counter.incr(`${PREFIX}origin-calls`)
      await sleep(ORIGIN_MS)
      return { by: worker.slot, at: Date.now() }
    }
    app.get('/wrap/:key', async (request) => app.cache.wrap(request.params.key, origin))
    app.get('/naive/:key', async (request) => {
      const hit = await app.cache.get(request.params.key)
      if (hit !== undefined) return hit
      const value = await origin()
      await app.cache.set(request.params.key, value)
      return value
    })
    app.get('/', async () => ({ slot: worker.slot }))
    return app
  },
  primary: async (admin) => { await admin.register(redisSessionPrimary) }
})
