import createError from '@fastify/error'

/** A `@corral/realtime` option has a value it cannot take. */
export const InvalidOptionError = createError(
  'CORRAL_REALTIME_INVALID_OPTION',
  'Invalid @corral/realtime option "%s": %s',
  500,
  TypeError
)

/** In a cluster-boot worker, WebSocket broadcasts need `fastify.bus` (@corral/redis-session) registered first. */
export const NoBusError = createError(
  'CORRAL_REALTIME_NO_BUS',
  '@corral/realtime broadcasts WebSocket messages over fastify.bus: register @corral/redis-session (with bus: true) before it',
  500
)

/** Socket.IO on one machine needs the cluster adapter's primary side, which is not loaded. */
export const NoPrimaryError = createError(
  'CORRAL_REALTIME_NO_PRIMARY',
  "@corral/realtime: Socket.IO across workers needs its primary side: register @corral/realtime/primary on cluster-boot's admin instance (boot({ primary })), or pass `redis`",
  500
)

/** `subscribe()` got something that is neither a ws WebSocket nor a Socket.IO socket. */
export const InvalidSocketError = createError(
  'CORRAL_REALTIME_INVALID_SOCKET',
  'subscribe() takes a WebSocket from @fastify/websocket or a Socket.IO socket, got %s',
  500,
  TypeError
)

/** A channel name that is not a string of 1 to 256 characters. */
export const InvalidChannelError = createError(
  'CORRAL_REALTIME_INVALID_CHANNEL',
  'a channel is a string of 1 to 256 characters, got %s',
  500,
  TypeError
)

/** A new connection reached a worker that is draining: the client retries and reaches another. */
export const DrainingError = createError(
  'CORRAL_REALTIME_DRAINING',
  'this worker is draining: connect again',
  503
)

/** The Socket.IO adapter's stream reader did not read what this worker published: its broadcasts would not reach its own clients. */
export const StreamNotReadError = createError(
  'CORRAL_REALTIME_STREAM_NOT_READ',
  '@corral/realtime: the Socket.IO adapter read nothing back from its Redis stream within %d ms: is Redis reachable?',
  500
)
