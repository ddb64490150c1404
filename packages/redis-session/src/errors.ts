import createError from '@fastify/error'
import { invalidOptionError } from '@corral/cluster-boot/options'

/** A `@corral/redis-session` option has a value it cannot take: `@corral/redis-session: option "<path>" must be <what> (got <value>)`. */
export const InvalidOptionError = invalidOptionError('CORRAL_SESSION_INVALID_OPTION', '@corral/redis-session')

// The three "unavailable" errors reach clients (503): a code and a generic
// message, never the backend's own words (hosts, slots, keys); the reason
// goes to the log, or rides along as `cause`, which Fastify does not send.

/** The session store did not answer in time, or refused: the request cannot know who the user is. */
export const StoreUnavailableError = createError(
  'CORRAL_SESSION_STORE_UNAVAILABLE',
  'Session store unavailable',
  503
)

/** The shared cache could not be read or written. */
export const CacheUnavailableError = createError(
  'CORRAL_CACHE_UNAVAILABLE',
  'Cache unavailable',
  503
)

/** A cache key Redis cannot store as one slot's key (an empty one). */
export const InvalidCacheKeyError = createError(
  'CORRAL_CACHE_INVALID_KEY',
  'Invalid cache key: %s',
  500,
  TypeError
)

/** A message could not be published. */
export const BusUnavailableError = createError(
  'CORRAL_BUS_UNAVAILABLE',
  'Pub/sub bus unavailable',
  503
)

/** An embedded-store request over IPC had a shape the primary does not accept. */
export const InvalidRequestError = createError(
  'CORRAL_SESSION_INVALID_REQUEST',
  'Invalid embedded store request: %s',
  400
)

/** `{ cause }` for an unavailable error: the reason's message only (an ioredis error carries its command's keys). */
export function reason (err: unknown): { cause: Error } {
  return { cause: new Error(err instanceof Error ? err.message : String(err)) }
}
