import type { ClusterOptions, RedisOptions } from 'ioredis'
import { check } from '../options.js'

/** One node of a Redis Cluster or one sentinel: "host:port" or { host, port }. */
export type NodeAddress = string | { host: string, port: number }

/** `redis: { cluster: { nodes } }`: a Redis Cluster, reached from any of these seed nodes. */
export interface ClusterInput {
  cluster: {
    /** seed nodes; the client discovers the others */
    nodes: NodeAddress[]
    /** ioredis ClusterOptions, over the fail-fast defaults */
    options?: ClusterOptions
  }
}

/** `redis: { sentinels, name }` (ioredis options): the master Sentinel names, followed across failovers. */
export type SentinelInput = Omit<RedisOptions, 'sentinels'> & { sentinels: NodeAddress[], name: string }

function fail (name: string, expected: string, value: unknown): never {
  return check.fail(name, expected, value)
}

/** "host:port" or { host, port } into { host, port }, naming the option when it is neither. */
export function parseAddress (name: string, value: unknown): { host: string, port: number } {
  if (typeof value === 'string') {
    const at = value.lastIndexOf(':')
    const host = value.slice(0, at)
    const port = Number(value.slice(at + 1))
    if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) fail(name, '"host:port"', value)
    return { host, port }
  }
  if (value !== null && typeof value === 'object') {
    const { host, port } = value as { host?: unknown, port?: unknown }
    if (typeof host === 'string' && host !== '' && typeof port === 'number' && Number.isInteger(port) && port > 0 && port <= 65535) return { host, port }
  }
  return fail(name, '"host:port" or { host, port }', value)
}

function addresses (name: string, value: unknown): Array<{ host: string, port: number }> {
  if (!Array.isArray(value) || value.length === 0) fail(name, 'a non-empty array of "host:port" or { host, port }', value)
  return value.map((v, i) => parseAddress(`${name}[${i}]`, v))
}

export function isClusterInput (value: unknown): value is ClusterInput {
  return value !== null && typeof value === 'object' && 'cluster' in value
}

export function isSentinelInput (value: unknown): value is SentinelInput {
  return value !== null && typeof value === 'object' && 'sentinels' in value
}

/** Checks the Cluster and Sentinel shapes of the `redis` option once, at registration. */
export function checkTopology (value: object): void {
  if (isClusterInput(value)) {
    const cluster = value.cluster as unknown
    if (cluster === null || typeof cluster !== 'object') fail('redis.cluster', '{ nodes: ["host:port", ...], options? }', cluster)
    addresses('redis.cluster.nodes', (cluster as ClusterInput['cluster']).nodes)
    const options = (cluster as ClusterInput['cluster']).options
    if (options !== undefined && (options === null || typeof options !== 'object')) fail('redis.cluster.options', 'ioredis ClusterOptions', options)
    if ('sentinels' in value) fail('redis', 'either { cluster } or { sentinels, name }, not both', Object.keys(value))
    return
  }
  if (isSentinelInput(value)) {
    addresses('redis.sentinels', value.sentinels)
    if (typeof value.name !== 'string' || value.name === '') fail('redis.name', 'the master name the sentinels monitor (required with sentinels)', value.name)
  }
}

export { addresses as parseAddresses }
