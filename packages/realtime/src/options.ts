import type { WebsocketPluginOptions } from '@fastify/websocket'
import type { ServerOptions } from 'socket.io'
import { InvalidOptionError } from './errors.js'

/** A Redis client the Socket.IO adapter can duplicate: ioredis (`Redis` or `Cluster`) or node-redis. */
export interface RedisClientLike {
  duplicate (): unknown
}

export interface RealtimeOptions {
  /** WebSockets through @fastify/websocket: `true` (default) or its options; registered here unless the app did first. `false`: none */
  websocket?: boolean | WebsocketPluginOptions
  /** Socket.IO attached to `fastify.server`: `false` (default), `true`, or Socket.IO server options */
  socketio?: boolean | Partial<ServerOptions>
  /** a Redis client: Socket.IO then uses @socket.io/redis-streams-adapter, across hosts, with connection-state recovery across workers */
  redis?: RedisClientLike
  /** ms a draining worker keeps its connections open before it closes them (WebSockets with 1001 Going Away) (default 0) */
  shutdownDelay?: number
  /** prefix of the `fastify.bus` channels WebSocket broadcasts travel on, and of the Socket.IO adapter's Redis stream, channels and session keys (default 'corral.realtime:') */
  channelPrefix?: string
}

export interface ResolvedOptions {
  websocket: WebsocketPluginOptions | false
  socketio: Partial<ServerOptions> | false
  redis: RedisClientLike | undefined
  shutdownDelay: number
  channelPrefix: string
}

const MAX_DELAY = 2 ** 31 - 1
const MAX_PREFIX = 64

function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function switchable<T> (name: string, value: unknown, fallback: T | false): T | false {
  if (value === undefined) return fallback
  if (value === false) return false
  if (value === true) return {} as T
  if (isPlainObject(value)) return value as T
  throw new InvalidOptionError(name, `expected true, false or an options object, got ${describe(value)}`)
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40))
  if (typeof value === 'object') return 'an object'
  return `${typeof value} ${String(value)}`
}

/** Reads and checks the options once, at registration; a wrong one throws naming it. */
export function resolveOptions (options: RealtimeOptions = {}): ResolvedOptions {
  if (!isPlainObject(options)) throw new InvalidOptionError('options', `expected an object, got ${describe(options)}`)
  const websocket = switchable<WebsocketPluginOptions>('websocket', options.websocket, {})
  let socketio = switchable<Partial<ServerOptions>>('socketio', options.socketio, false)
  if (socketio !== false && !('connectionStateRecovery' in socketio)) {
    // on by default: a client that reconnects (to this worker or another) gets what it missed, where the adapter keeps it
    socketio = { ...socketio, connectionStateRecovery: {} }
  }

  const redis = options.redis
  if (redis !== undefined && (redis === null || typeof redis !== 'object' || typeof (redis as RedisClientLike).duplicate !== 'function')) {
    throw new InvalidOptionError('redis', `expected a Redis client (ioredis or node-redis), got ${describe(redis)}`)
  }

  const shutdownDelay = options.shutdownDelay ?? 0
  if (typeof shutdownDelay !== 'number' || !Number.isInteger(shutdownDelay) || shutdownDelay < 0 || shutdownDelay > MAX_DELAY) {
    throw new InvalidOptionError('shutdownDelay', `expected a whole number of ms from 0 to ${MAX_DELAY}, got ${describe(shutdownDelay)}`)
  }

  const channelPrefix = options.channelPrefix ?? 'corral.realtime:'
  if (typeof channelPrefix !== 'string' || channelPrefix.length > MAX_PREFIX) {
    throw new InvalidOptionError('channelPrefix', `expected a string of at most ${MAX_PREFIX} characters, got ${describe(channelPrefix)}`)
  }
  if (redis !== undefined && socketio === false) {
    throw new InvalidOptionError('redis', 'only Socket.IO uses it (WebSocket broadcasts go over fastify.bus): set `socketio` too, or leave `redis` out')
  }
  return { websocket, socketio, redis: redis as RedisClientLike | undefined, shutdownDelay, channelPrefix }
}
