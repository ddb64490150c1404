import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { hostCache } from './cache/index.js'
import { positiveInteger, resolveCacheOptions, type PrimaryHostOptions } from './options.js'
import { hostPubSub } from './pubsub/index.js'
import { hostSessions } from './session/host.js'
import { DEFAULT_MAX_SESSION_BYTES, MemorySessionBackend, type EmbeddedStats } from './session/memory-backend.js'

/** `admin.embeddedStore`: what the primary holds for its workers, for metrics. */
export interface EmbeddedStoreStats {
  sessions: EmbeddedStats
  cache: EmbeddedStats
}

declare module 'fastify' {
  interface FastifyInstance {
    /** @corral/redis-session (on cluster-boot's admin instance): sizes and eviction counts of the embedded store */
    embeddedStore?: EmbeddedStoreStats
  }
}

/**
 * The primary's side of the embedded store: sessions, cache and pub/sub for
 * every worker of the machine, over the IPC bus. The primary loads it on
 * cluster-boot's admin instance (`@corral/redis-session/primary`) when a
 * worker's plugin has no `redis`; `boot({ primary })` may register it by hand.
 */
async function redisSessionPrimaryPlugin (admin: FastifyInstance, options: PrimaryHostOptions): Promise<void> {
  const supervisor = admin.supervisor
  // fastify-plugin refuses an instance without it (decorators, below): this only narrows the type
  /* c8 ignore next */
  if (supervisor === undefined) throw new TypeError('@corral/redis-session: fastify.supervisor is missing')
  const maxSessions = positiveInteger('maxSessions', options.maxSessions, 100_000)
  const maxBytes = positiveInteger('maxBytes', options.maxBytes, DEFAULT_MAX_SESSION_BYTES)
  const cacheOptions = resolveCacheOptions(options.cache)
  const bus = supervisor.bus
  const sessions = new MemorySessionBackend({ maxSessions, maxBytes, log: admin.log })
  const stopSessions = hostSessions(bus, sessions)
  const cache = hostCache(bus, cacheOptions, admin.log)
  const stopPubSub = hostPubSub(bus)
  admin.decorate('embeddedStore', { sessions, cache: cache.stats })
  admin.addHook('onClose', async () => {
    stopSessions()
    cache.close()
    stopPubSub()
  })
}

export const redisSessionPrimary = fp(redisSessionPrimaryPlugin, {
  name: '@corral/redis-session-primary',
  fastify: '5.x',
  // cluster-boot's admin instance, and only it, has the supervisor
  decorators: { fastify: ['supervisor'] }
})
export default redisSessionPrimary
