import type { FastifyBaseLogger } from 'fastify'
import { InvalidOptionError } from '../errors.js'
import type { RedisClient } from '../redis-client.js'
import { bounded } from './bounded.js'

/**
 * A single-node client pointed at a Redis Cluster node works for PING (so
 * health passes) and answers MOVED for most keys (so every login is a 503):
 * refuse to start instead, naming the option to use. A Redis that does not
 * answer yet is not a reason to refuse: sessions come back with it.
 */
export async function refuseClusterNode (client: RedisClient, timeout: number, log: FastifyBaseLogger): Promise<void> {
  if (client.isCluster) return
  let info: string
  try {
    info = await bounded(client.info('cluster'), timeout)
  } catch (err) {
    log.warn({ err: { message: (err as Error).message } }, 'redis-session: Redis did not answer at start-up; sessions answer 503 until it does')
    return
  }
  if (/^cluster_enabled:1\b/m.test(info)) {
    throw new InvalidOptionError('redis', 'redis: { cluster: { nodes: ["host:port", ...] } } (REDIS_CLUSTER_NODES in the example app) or a new Cluster(...) client ' +
      'for a Redis Cluster node: a single-node client gets MOVED for most keys', 'a single-node client of a Cluster node')
  }
}
