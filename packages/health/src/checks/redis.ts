import type { CheckDefinition } from '../check.js'
import { roundTripCheck } from './round-trip.js'

/** The part of an ioredis client (Redis or Cluster) the check needs. */
export interface PingClient { ping: () => Promise<string> }

/** PING on an ioredis client; observes the round trip in ms. */
export function redisCheck (client: PingClient, options: Omit<CheckDefinition, 'check'> = {}): CheckDefinition {
  return roundTripCheck(() => client.ping(), options)
}
