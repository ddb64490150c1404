import type { FastifyInstance } from 'fastify'
import { redisFromEnv, redisSession } from '@corral/redis-session'
import { sessionRoutes } from '../routes/sessions.js'

// only for a laptop: production must bring its own
const DEV_SECRET = 'corral-example-dev-secret-not-for-production-0123456789'

function sessionSecret (): string | string[] {
  const configured = process.env.SESSION_SECRET
  if (configured !== undefined && configured !== '') return configured.includes(',') ? configured.split(',') : configured
  if (process.env.NODE_ENV === 'production') throw new Error('SESSION_SECRET is required in production')
  return DEV_SECRET
}

/**
 * Sessions, cache and pub/sub: on Redis when REDIS_URL (one node),
 * REDIS_CLUSTER_NODES ("h:p,h:p", a Cluster) or REDIS_SENTINELS ("h:p,...")
 * with REDIS_SENTINEL_NAME is set, else embedded in the cluster-boot primary
 * (which loads the store by itself). SESSION_SECRET (comma-separated to rotate).
 */
export async function sessionsFeature (app: FastifyInstance): Promise<void> {
  const redis = redisFromEnv()
  await app.register(redisSession, {
    secret: sessionSecret(),
    ...(redis !== undefined ? { redis } : {}),
    keyPrefix: 'corral-example:',
    userKey: 'user'
  })
  await app.register(sessionRoutes)
}
