import createError from '@fastify/error'

/** A `@corral/redis-session` option has a value it cannot take. */
export const InvalidOptionError = createError(
  'CORRAL_SESSION_INVALID_OPTION',
  'Invalid @corral/redis-session option "%s": %s',
  500,
  TypeError
)

/** The session store did not answer in time, or refused: the request cannot know who the user is. */
export const StoreUnavailableError = createError(
  'CORRAL_SESSION_STORE_UNAVAILABLE',
  'Session store unavailable: %s',
  503
)

/** The shared cache could not be read or written. */
export const CacheUnavailableError = createError(
  'CORRAL_CACHE_UNAVAILABLE',
  'Cache unavailable: %s',
  503
)

/** A message could not be published. */
export const BusUnavailableError = createError(
  'CORRAL_BUS_UNAVAILABLE',
  'Pub/sub bus unavailable: %s',
  503
)

/** An embedded-store request over IPC had a shape the primary does not accept. */
export const InvalidRequestError = createError(
  'CORRAL_SESSION_INVALID_REQUEST',
  'Invalid embedded store request: %s',
  400
)
