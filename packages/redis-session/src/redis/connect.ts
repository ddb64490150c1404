import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import { failFastOptions, isRedisClient, type RedisClient, type RedisInput } from '../redis-client.js'
import { isClusterInput, isSentinelInput, parseAddresses } from './topology.js'

export type Topology = 'single' | 'sentinel' | 'cluster'

/**
 * The client to use, whether we created it (and so must close it), its
 * topology, and whether it bounds every command itself (`commandTimeout` on a
 * single node or Sentinel client we made, from the moment the command is
 * issued, offline queue included): such commands need no second timer.
 */
export interface Connection { client: RedisClient, owned: boolean, topology: Topology, selfBounded: boolean }

/**
 * A Cluster that fails fast as the single-node client does: every node
 * connection has the fail-fast options, a command waiting for a failover
 * retries every 100 ms (MOVED, CLUSTERDOWN, TRYAGAIN) and the slot map is
 * refreshed every 5 s and whenever a node goes, so a promoted replica is
 * found without a restart.
 */
export function clusterOptions (commandTimeout: number, overrides: ClusterOptions = {}): ClusterOptions {
  const { retryStrategy: _perNode, ...node } = failFastOptions(commandTimeout)
  return {
    enableOfflineQueue: true,
    enableAutoPipelining: true,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    retryDelayOnMoved: 0,
    maxRedirections: 16,
    slotsRefreshTimeout: Math.max(commandTimeout, 1000),
    slotsRefreshInterval: 5000,
    clusterRetryStrategy: (times: number) => Math.min(100 * times, 2000),
    ...overrides,
    redisOptions: { ...node, ...overrides.redisOptions }
  }
}

/**
 * Sentinel on top of the fail-fast options: sentinels answer within the
 * timeout, a +switch-master moves the client at once, and reconnects back
 * off to 500 ms only (each asks a sentinel for the master, which is cheap):
 * with the 2 s cap, a client that kept failing during the failover waited up
 * to 2 s more after the new master was known.
 */
export function sentinelOptions (commandTimeout: number): RedisOptions {
  return {
    ...failFastOptions(commandTimeout),
    retryStrategy: (times: number) => Math.min(50 * 2 ** times, 500),
    sentinelCommandTimeout: Math.max(commandTimeout, 1000),
    sentinelRetryStrategy: (times: number) => Math.min(100 * times, 2000),
    failoverDetector: true
  }
}

/**
 * Builds the client for the `redis` option: a client passed in is used as it
 * is (its owner chose its options; the session commands are bounded anyway),
 * `{ cluster: { nodes } }` makes a Cluster, `{ sentinels, name }` a Sentinel
 * client, a URL or other options one node; all with fail-fast defaults.
 */
export function connect (input: RedisInput, commandTimeout: number): Connection {
  if (isRedisClient(input)) {
    const topology: Topology = input.isCluster ? 'cluster' : (input as Redis).options?.sentinels != null ? 'sentinel' : 'single'
    return { client: input, owned: false, topology, selfBounded: false }
  }
  let client: RedisClient
  let topology: Topology
  if (isClusterInput(input)) {
    client = new Cluster(parseAddresses('redis.cluster.nodes', input.cluster.nodes), clusterOptions(commandTimeout, input.cluster.options))
    topology = 'cluster'
  } else if (isSentinelInput(input)) {
    client = new Redis({ ...sentinelOptions(commandTimeout), ...input, sentinels: parseAddresses('redis.sentinels', input.sentinels) })
    topology = 'sentinel'
  } else {
    const options = failFastOptions(commandTimeout)
    client = typeof input === 'string' ? new Redis(input, options) : new Redis({ ...options, ...input })
    topology = 'single'
  }
  // errors surface on commands; an unhandled 'error' event would crash the worker
  client.on('error', () => {})
  // a Cluster bounds the command on a node, not its wait for slots or a failover
  return { client, owned: true, topology, selfBounded: topology !== 'cluster' }
}
