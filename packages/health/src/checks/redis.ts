import type { CheckDefinition } from '../check.js'
import { clusterRoundTrip, isCluster, isSentinel, sentinelRoundTrip } from './redis-topology.js'
import { roundTripCheck } from './round-trip.js'

/** The part of an ioredis client (Redis or Cluster) the check needs. */
export interface PingClient { ping: () => Promise<string> }

/**
 * PING on an ioredis client; observes the round trip in ms. On a Cluster:
 * cluster_state:ok and a PING to every master; on Sentinel: ROLE is master.
 */
export function redisCheck (client: PingClient, options: Omit<CheckDefinition, 'check'> = {}): CheckDefinition {
  if (isCluster(client)) return roundTripCheck(async () => await clusterRoundTrip(client), options)
  if (isSentinel(client)) return roundTripCheck(async () => await sentinelRoundTrip(client), options)
  return roundTripCheck(() => client.ping(), options)
}
