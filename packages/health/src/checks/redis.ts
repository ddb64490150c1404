import type { CheckDefinition } from '../check.js'

/** The part of an ioredis client (Redis or Cluster) the check needs. */
export interface PingClient { ping: () => Promise<string> }

/** PING on an ioredis client; observes the round trip in ms. */
export function redisCheck (client: PingClient, options: Omit<CheckDefinition, 'check'> = {}): CheckDefinition {
  return {
    measurement: 'responseTime',
    ...options,
    check: async () => {
      const started = performance.now()
      await client.ping()
      return { observedValue: Math.round((performance.now() - started) * 100) / 100, observedUnit: 'ms' }
    }
  }
}
