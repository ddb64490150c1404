import type { IncomingMessage, Server as HttpServer } from 'node:http'
import type { Duplex } from 'node:stream'
import { errors, stickySid, type WorkerContext } from '@corral/cluster-boot'
import type { FastifyBaseLogger } from 'fastify'
import type { Server, ServerOptions } from 'socket.io'
import { DrainingError, NoPrimaryError, StreamNotReadError } from './errors.js'
import type { RedisClientLike } from './options.js'
import { streamRecovery, type StreamRecovery } from './stream-recovery.js'

/** The IPC namespace the primary side answers on: a worker asks it once, to know the cluster adapter's primary side runs. */
export const PRIMARY_NAMESPACE = 'corral.realtime'
const PRIMARY_CHECK_TIMEOUT = 2000
/** how long a worker waits, at start, for the Redis stream reader to read what it publishes */
const STREAM_READ_TIMEOUT = 5000

type UpgradeListener = (this: HttpServer, req: IncomingMessage, socket: Duplex, head: Buffer) => void

export type AdapterKind = 'redis-streams' | 'cluster' | 'memory'

/**
 * The adapter a Socket.IO server needs where it runs: Redis streams when a
 * client is given (every worker of every host, with connection-state
 * recovery across them); the cluster adapter in a cluster-boot worker (the
 * workers of this machine, through the primary); in memory alone.
 */
async function adapterFor (redis: RedisClientLike | undefined, prefix: string, worker: WorkerContext | null, log: FastifyBaseLogger): Promise<{ kind: AdapterKind, adapter?: ServerOptions['adapter'], recovery?: StreamRecovery }> {
  if (redis !== undefined) {
    const { createAdapter } = await import('@socket.io/redis-streams-adapter')
    // the names carry the prefix: two apps on one Redis keep their streams, channels and sessions apart
    const streamName = `${prefix}socket.io`
    const create = createAdapter(redis, { streamName, channelPrefix: streamName, sessionKeyPrefix: `${prefix}sio:session:` })
    const recovery = streamRecovery()
    // Socket.IO calls it with `new`: a function, not an arrow; what it returns is the adapter
    const adapter = function (nsp: unknown): unknown { return recovery.wrap(create(nsp)) }
    return { kind: 'redis-streams', adapter: adapter as unknown as ServerOptions['adapter'], recovery }
  }
  if (worker === null) return { kind: 'memory' }
  // the cluster adapter's relay runs in the primary: the primary loads it before this worker counts as ready
  await worker.usePrimary(new URL('./primary.js', import.meta.url))
  try {
    await worker.bus.request(PRIMARY_NAMESPACE, null, { timeout: PRIMARY_CHECK_TIMEOUT })
  } catch (err) {
    // without its primary side the cluster adapter's messages go nowhere: every emit would stay on this worker
    if (err instanceof errors.IpcNoHandlerError) throw new NoPrimaryError()
    log.warn({ err }, 'realtime: the primary did not say whether the Socket.IO cluster adapter runs there; going on')
  }
  const { createAdapter } = await import('@socket.io/cluster-adapter')
  return { kind: 'cluster', adapter: createAdapter() as unknown as ServerOptions['adapter'] }
}

/**
 * A Socket.IO server on the app's own HTTP server (its requests and upgrades
 * under `path` are Socket.IO's; everything else stays Fastify's). New
 * connections are refused while `draining()` says so, so a client that was
 * sent away reconnects to another worker.
 */
export async function attachSocketIo (
  server: HttpServer,
  options: Partial<ServerOptions>,
  redis: RedisClientLike | undefined,
  prefix: string,
  worker: WorkerContext | null,
  draining: () => boolean,
  withWebSockets: boolean,
  log: FastifyBaseLogger
): Promise<{ io: Server, adapter: AdapterKind }> {
  const { Server: SocketIoServer } = await import('socket.io')
  const { kind, adapter, recovery } = await adapterFor(redis, prefix, worker, log)
  const allow = options.allowRequest
  const closeListeners = new Set(server.listeners('close'))
  const upgradeListeners = server.listeners('upgrade') as UpgradeListener[]
  const io = new SocketIoServer(server, {
    ...options,
    ...(adapter === undefined ? {} : { adapter }),
    // engine.io ends upgrades it does not own after a second; @fastify/websocket answers those, maybe later
    ...(withWebSockets ? { destroyUpgrade: false } : {}),
    allowRequest (req, callback) {
      if (draining()) return callback(new DrainingError().message, false)
      if (allow === undefined) return callback(null, true)
      allow(req, callback)
    }
  })
  // in a cluster-boot worker a sid names its slot: `scheduling: 'sticky', sticky: { key: 'sid' }` routes a client's later requests there
  if (worker !== null) io.engine.generateId = () => stickySid(worker.slot)
  // engine.io closes every client when the server emits 'close'; under sticky scheduling a worker's server never
  // listens, and net.Server emits 'close' each time its last handed-over connection ends: the app's onClose closes it instead
  for (const listener of server.listeners('close')) if (!closeListeners.has(listener)) server.off('close', listener as () => void)
  // an upgrade under Socket.IO's path is engine.io's alone: @fastify/websocket would answer it too (a 404), on the same socket
  const path = `${(options.path ?? '/socket.io').replace(/\/$/, '')}/`
  for (const listener of upgradeListeners) {
    server.off('upgrade', listener)
    server.on('upgrade', function (this: HttpServer, req: IncomingMessage, socket: Duplex, head: Buffer) {
      if (req.url?.startsWith(path) !== true) listener.call(this, req, socket, head)
    })
  }
  // this worker's broadcasts reach its own sockets through the stream reader: it must be reading before any connection
  if (recovery !== undefined && !await recovery.reading(io.of('/').adapter, STREAM_READ_TIMEOUT)) {
    // the HTTP server is Fastify's: Socket.IO's close() would close it too
    (io as unknown as { httpServer?: unknown }).httpServer = undefined
    await io.close()
    throw new StreamNotReadError(STREAM_READ_TIMEOUT)
  }
  return { io, adapter: kind }
}
