import type { CheckDefinition } from '../check.js'
import { roundTripCheck } from './round-trip.js'

/** The part of a `pg` Pool (or Client) the check needs. */
export interface QueryClient { query: (text: string) => Promise<unknown> }

/** `SELECT 1` on a `pg` Pool; observes the round trip in ms. */
export function postgresCheck (pool: QueryClient, options: Omit<CheckDefinition, 'check'> = {}): CheckDefinition {
  return roundTripCheck(() => pool.query('SELECT 1'), options)
}
