import { Redis, type Cluster, type RedisOptions } from 'ioredis'
import type { ClusterInput, SentinelInput } from './redis/topology.js'

export type RedisClient = Redis | Cluster

/** What the `redis` option accepts: a client you own, a URL, options for one node, `{ cluster: { nodes } }` or `{ sentinels, name }`. */
export type RedisInput = RedisClient | string | RedisOptions | ClusterInput | SentinelInput

/**
 * Fail fast instead of ioredis' defaults (20 retries per command with a
 * growing backoff, tens of seconds): a command waits at most
 * `commandTimeout`, is retried once across a reconnect, and reconnects back
 * off up to 2 s, so a request during an outage fails in about a second and
 * service comes back by itself. Auto-pipelining batches the commands of
 * concurrent requests.
 */
export function failFastOptions (commandTimeout: number): RedisOptions {
  return {
    commandTimeout,
    connectTimeout: Math.max(commandTimeout, 1000),
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (times: number) => Math.min(50 * 2 ** times, 2000),
    // commands issued in one tick leave in one write: under load, one syscall
    // for many requests instead of one each
    enableAutoPipelining: true
  }
}

export function isRedisClient (value: unknown): value is RedisClient {
  return value !== null && typeof value === 'object' &&
    typeof (value as Redis).duplicate === 'function' &&
    typeof (value as Redis).get === 'function' &&
    typeof (value as Redis).quit === 'function'
}

/** Whether an error is Redis being unreachable or slow, rather than a bug of ours. */
export function isConnectionError (err: unknown): boolean {
  if (!(err instanceof Error)) return false
  const e = err as Error & { code?: string }
  return e.name === 'MaxRetriesPerRequestError' ||
    e.message === 'Command timed out' ||
    e.message.includes('Connection is closed') ||
    e.message.includes("Stream isn't writeable") ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'].includes(e.code ?? '')
}
