import type { FastifyBaseLogger } from 'fastify'
import { parseStored } from '../stored-json.js'

/**
 * A cached value's JSON, parsed as untrusted (another client or worker may
 * have written it): undefined, and a warning, when it does not parse. What
 * every cache backend shares.
 */
export function parseCached<T> (key: string, json: string, log?: Pick<FastifyBaseLogger, 'warn'>): T | undefined {
  const value = parseStored(json)
  if (value === undefined) log?.warn({ key }, 'cached value does not parse: treated as a miss')
  return value as T | undefined
}
