import type { WorkerBus } from '@corral/cluster-boot'
import type { FastifyBaseLogger } from 'fastify'
import type { Cluster } from 'ioredis'
import type { RedisClient } from '../redis-client.js'
import type { PubSubApi } from './handlers.js'
import { LocalPubSub } from './local-pubsub.js'
import { PrimaryPubSub } from './primary-pubsub.js'
import { RedisPubSub } from './redis-pubsub.js'
import { ShardedPubSub } from './sharded-pubsub.js'

export type { MessageHandler, PubSubApi } from './handlers.js'
export { hostPubSub } from './primary-pubsub.js'

/** Pub/sub across machines on Redis, with a subscriber connection of its own; sharded on a Cluster. */
export function redisPubSub (client: RedisClient, prefix: string, log: FastifyBaseLogger, timeout = 1000): PubSubApi {
  if (client.isCluster) return new ShardedPubSub(client as Cluster, prefix, timeout, log)
  return new RedisPubSub(client, prefix, log, timeout)
}

/** Pub/sub within this process. */
export function localPubSub (log: FastifyBaseLogger): PubSubApi {
  return new LocalPubSub(log)
}

/** A worker's pub/sub across the workers of its machine, through the primary. */
export function primaryPubSub (bus: WorkerBus, log: FastifyBaseLogger): PubSubApi {
  return new PrimaryPubSub(bus, log)
}
