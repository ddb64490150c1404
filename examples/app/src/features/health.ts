import type { FastifyInstance } from 'fastify'
import { createRedisClient, redisFromEnv } from '@corral/redis-session'
import pg from 'pg'
import { corralHealth, eventLoopCheck, postgresCheck, redisCheck, type CheckDefinition } from '@corral/health'

const set = (name: string): string | undefined => {
  const value = process.env[name]
  return value === undefined || value === '' ? undefined : value
}

/**
 * /health/live, /health/ready and /health, with a Redis check when Redis is
 * configured (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS, as for sessions) and a Postgres check when DATABASE_URL is set. SHUTDOWN_DELAY (ms)
 * keeps a draining worker serving while the balancer notices. The primary
 * loads its side by itself: GET /health on the admin server, the whole machine.
 */
export async function healthFeature (app: FastifyInstance): Promise<void> {
  const checks: Record<string, CheckDefinition> = {}
  const loop = eventLoopCheck({ critical: false })
  checks.eventLoop = loop
  app.addHook('onClose', async () => loop.stop())

  const redisInput = redisFromEnv()
  if (redisInput !== undefined) {
    // a client of its own, failing fast: a probe must not queue behind a dead connection
    const { client: redis } = createRedisClient(redisInput, 1000)
    checks.redis = redisCheck(redis)
    app.addHook('onClose', async () => { redis.disconnect() })
  }
  const databaseUrl = set('DATABASE_URL')
  if (databaseUrl !== undefined) {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, connectionTimeoutMillis: 1000 })
    pool.on('error', () => {})
    checks.postgres = postgresCheck(pool)
    app.addHook('onClose', async () => { await pool.end() })
  }
  await app.register(corralHealth, { checks, shutdownDelay: Number(set('SHUTDOWN_DELAY') ?? 0) })
}
