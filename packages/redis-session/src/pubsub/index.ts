import type { WorkerBus } from '@corral/cluster-boot'
import type { FastifyBaseLogger } from 'fastify'
import type { Cluster } from 'ioredis'
import { bounded } from '../redis/bounded.js'
import type { RedisClient } from '../redis-client.js'
import type { PubSubApi } from './pubsub-api.js'
import { LocalPubSub } from './local-pubsub.js'
import { PrimaryPubSub } from './primary-pubsub.js'
import { RedisPubSub } from './redis-pubsub.js'
import { ShardedPubSub } from './sharded-pubsub.js'

export type { MessageHandler, PubSubApi } from './pubsub-api.js'
export { hostPubSub } from './primary-pubsub.js'

/**
 * Pub/sub across machines on Redis, with a subscriber connection of its own;
 * sharded on a Cluster that has it (Redis >= 7), else plain pub/sub there too.
 */
export async function redisPubSub (client: RedisClient, prefix: string, log: FastifyBaseLogger, timeout = 1000): Promise<PubSubApi> {
  if (client.isCluster && await hasShardedPubSub(client, timeout, log)) return new ShardedPubSub(client as Cluster, prefix, timeout, log)
  return new RedisPubSub(client, prefix, log, timeout)
}

/**
 * A Cluster of Redis < 7 (or one with the commands renamed away) refuses
 * SSUBSCRIBE/SPUBLISH: every subscribe and publish would be a 503. Asked once
 * at start; a Cluster that does not answer yet is taken to be current.
 */
async function hasShardedPubSub (client: RedisClient, timeout: number, log: FastifyBaseLogger): Promise<boolean> {
  let info: string
  let commands: unknown
  try {
    [info, commands] = await bounded(Promise.all([
      client.info('server'),
      client.call('COMMAND', 'INFO', 'SSUBSCRIBE', 'SPUBLISH')
    ]), timeout)
  } catch {
    return true
  }
  const version = /^redis_version:([\d.]+)/m.exec(info)?.[1]
  const major = Number(version?.split('.')[0])
  const known = Array.isArray(commands) && commands.length === 2 && commands.every((c) => Array.isArray(c))
  if (major >= 7 && known) return true
  log.warn({ redisVersion: version }, 'redis-session: this Redis Cluster has no sharded pub/sub (SSUBSCRIBE/SPUBLISH, Redis >= 7): ' +
    'the bus uses plain pub/sub, where a publish goes through any master and a hung one fails a share of them')
  return false
}

/** Pub/sub within this process. */
export function localPubSub (log: FastifyBaseLogger): PubSubApi {
  return new LocalPubSub(log)
}

/** A worker's pub/sub across the workers of its machine, through the primary. */
export function primaryPubSub (bus: WorkerBus, log: FastifyBaseLogger): PubSubApi {
  return new PrimaryPubSub(bus, log)
}
