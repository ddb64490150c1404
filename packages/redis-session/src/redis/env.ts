import { InvalidOptionError } from '../errors.js'
import type { RedisInput } from '../redis-client.js'

const set = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const value = env[name]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}
const list = (value: string): string[] => value.split(',').map((s) => s.trim()).filter((s) => s !== '')

/**
 * The `redis` option from the environment: REDIS_CLUSTER_NODES="h:p,h:p" for
 * a Redis Cluster, REDIS_SENTINELS="h:p,..." with REDIS_SENTINEL_NAME for
 * Sentinel, REDIS_URL for one node; undefined when none is set (the embedded
 * store). Two of them at once is a mistake, reported rather than guessed.
 */
export function redisFromEnv (env: NodeJS.ProcessEnv = process.env): RedisInput | undefined {
  const url = set(env, 'REDIS_URL')
  const cluster = set(env, 'REDIS_CLUSTER_NODES')
  const sentinels = set(env, 'REDIS_SENTINELS')
  const given = [url && 'REDIS_URL', cluster && 'REDIS_CLUSTER_NODES', sentinels && 'REDIS_SENTINELS'].filter(Boolean)
  if (given.length > 1) throw new InvalidOptionError('redis', 'set from one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS', `${given.join(' and ')}`)
  if (cluster !== undefined) return { cluster: { nodes: list(cluster) } }
  if (sentinels !== undefined) {
    const name = set(env, 'REDIS_SENTINEL_NAME')
    if (name === undefined) throw new InvalidOptionError('REDIS_SENTINEL_NAME', 'the master name the sentinels monitor (REDIS_SENTINELS needs it)', 'nothing')
    return { sentinels: list(sentinels), name }
  }
  return url
}
