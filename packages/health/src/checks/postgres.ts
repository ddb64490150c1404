import type { CheckDefinition } from '../check.js'

/** The part of a `pg` Pool (or Client) the check needs. */
export interface QueryClient { query: (text: string) => Promise<unknown> }

/** `SELECT 1` on a `pg` Pool; observes the round trip in ms. */
export function postgresCheck (pool: QueryClient, options: Omit<CheckDefinition, 'check'> = {}): CheckDefinition {
  return {
    measurement: 'responseTime',
    ...options,
    check: async () => {
      const started = performance.now()
      await pool.query('SELECT 1')
      return { observedValue: Math.round((performance.now() - started) * 100) / 100, observedUnit: 'ms' }
    }
  }
}
