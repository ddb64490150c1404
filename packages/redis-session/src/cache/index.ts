import type { PrimaryBusApi, WorkerBus } from '@corral/cluster-boot'
import type { FastifyBaseLogger } from 'fastify'
import type { RedisClient } from '../redis-client.js'
import { hostCache as host, type HostedCache } from './host.js'
import { MemoryCache } from './memory-cache.js'
import type { CacheApi, CacheOptions } from './cache-api.js'
import { PrimaryCache } from './primary-cache.js'
import { RedisCache } from './redis-cache.js'

export { cacheDefaults } from './cache-api.js'
export type { CacheApi, CacheOptions } from './cache-api.js'

/** The cache on Redis, shared by every worker and machine. */
export function redisCache (client: RedisClient, prefix: string, options: CacheOptions, log: FastifyBaseLogger, commandTimeout: number): CacheApi {
  return new RedisCache(client, prefix, options, log, commandTimeout)
}

/** The cache of a single process. */
export function memoryCache (options: CacheOptions, log?: FastifyBaseLogger): MemoryCache {
  return new MemoryCache(options, log)
}

/** The worker side of the cache the cluster-boot primary hosts. */
export function primaryCache (bus: WorkerBus, options: CacheOptions, log: FastifyBaseLogger): CacheApi {
  return new PrimaryCache(bus, options, log)
}

/** The primary side: serves its workers' cache requests; returns a function that stops serving. */
export function hostCache (bus: PrimaryBusApi, options: CacheOptions, log?: FastifyBaseLogger): HostedCache {
  return host(bus, options, log)
}
