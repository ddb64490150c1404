import type { CheckDefinition } from '../check.js'
import { clusterRoundTrip, isCluster, isSentinel, sentinelRoundTrip } from './redis-topology.js'
import { roundTripCheck } from './round-trip.js'

/** The part of an ioredis client (Redis or Cluster) the check needs. */
export interface PingClient {
  ping: () => Promise<string>
  /** ioredis' connection status: 'wait' (lazy), 'connecting', 'connect', 'ready', 'reconnecting', 'close', 'end' */
  status?: string
  connect?: () => Promise<void>
  once?: (event: 'ready', listener: () => void) => unknown
  removeListener?: (event: 'ready', listener: () => void) => unknown
}

// on its way to 'ready': with enableOfflineQueue false a PING now fails at once, and that failure would be cached
const CONNECTING = new Set(['connecting', 'connect', 'reconnecting'])

/**
 * Waits, within the check's timeout, for a client that is still connecting
 * (and connects a lazy one), so a probe right after start-up does not fail.
 * A closed client is left to PING, which says so.
 */
async function untilReady (client: PingClient, signal: AbortSignal): Promise<void> {
  if (client.status === 'wait' && client.connect !== undefined) return client.connect()
  if (client.status === undefined || !CONNECTING.has(client.status) || client.once === undefined || client.removeListener === undefined) return
  const { once, removeListener } = { once: client.once.bind(client), removeListener: client.removeListener.bind(client) }
  await new Promise<void>((resolve, reject) => {
    const ready = (): void => {
      signal.removeEventListener('abort', abort)
      resolve()
    }
    const abort = (): void => {
      removeListener('ready', ready)
      reject(signal.reason)
    }
    once('ready', ready)
    signal.addEventListener('abort', abort, { once: true })
  })
}

/**
 * PING on an ioredis client; observes the round trip in ms. On a Cluster:
 * cluster_state:ok and a PING to every master; on Sentinel: ROLE is master.
 * A client still connecting is waited for, not failed.
 */
export function redisCheck (client: PingClient, options: Omit<CheckDefinition, 'check'> = {}): CheckDefinition {
  const prepare = ({ signal }: { signal: AbortSignal }): Promise<void> => untilReady(client, signal)
  if (isCluster(client)) return roundTripCheck(async () => await clusterRoundTrip(client), options, prepare)
  if (isSentinel(client)) return roundTripCheck(async () => await sentinelRoundTrip(client), options, prepare)
  return roundTripCheck(() => client.ping(), options, prepare)
}
