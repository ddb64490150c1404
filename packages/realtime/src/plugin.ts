import { workerContext } from '@corral/cluster-boot'
import websocketPlugin from '@fastify/websocket'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Server, Socket } from 'socket.io'
import type { WebSocket, WebSocketServer } from 'ws'
import { DrainingError, InvalidChannelError, InvalidSocketError, NoBusError } from './errors.js'
import { resolveOptions, type RealtimeOptions } from './options.js'
import { attachSocketIo, type AdapterKind } from './socket-io.js'
import { registerGauge } from './connections-gauge.js'
import { processBus, WsChannels, type Bus } from './ws-channels.js'

/** Going Away: the client reconnects, and reaches a worker that stays. */
export const GOING_AWAY = 1001
const MAX_CHANNEL = 256

/** Open connections on this worker, by transport. */
export interface ConnectionCounts {
  websocket: number
  socketio: number
}

/** `fastify.realtime`: broadcast to every worker's and every host's clients, and what this worker holds. */
export interface RealtimeApi {
  /**
   * Sends `data` to every WebSocket subscribed to `channel` (a text frame,
   * `{"channel","data"}` as JSON) and every Socket.IO socket in the room
   * `channel` (the event `channel`), on every worker and, over Redis, every host.
   */
  broadcast (channel: string, data: unknown): Promise<void>
  /** Adds a WebSocket (from @fastify/websocket) or a Socket.IO socket to `channel`; resolves once broadcasts reach it. */
  subscribe (socket: WebSocket | Socket, channel: string): Promise<void>
  unsubscribe (socket: WebSocket | Socket, channel: string): Promise<void>
  /** open connections on this worker */
  readonly connections: ConnectionCounts
  /** the Socket.IO server, when `socketio` is on */
  readonly io: Server | undefined
  /** where Socket.IO broadcasts travel: Redis streams, the cluster adapter, or this process only */
  readonly adapter: AdapterKind | undefined
  /** true once the worker drains (reload, memory limit, stop) or the app closes: new connections are refused */
  readonly draining: boolean
  /** Closes every connection now: WebSockets with 1001 Going Away, Socket.IO transports (clients reconnect and recover). */
  closeAll (): void
}

declare module 'fastify' {
  interface FastifyInstance {
    /** @corral/realtime */
    realtime: RealtimeApi
  }
}

function checkChannel (channel: unknown): asserts channel is string {
  if (typeof channel !== 'string' || channel.length === 0 || channel.length > MAX_CHANNEL) {
    throw new InvalidChannelError(JSON.stringify(channel)?.slice(0, 40) ?? String(channel))
  }
}

/** engine.io's connections by id: every transport connection, whatever namespaces it joined */
function engineClients (io: Server): Record<string, { close (): void }> {
  return (io.engine as unknown as { clients: Record<string, { close (): void }> }).clients
}

function isSocketIo (socket: unknown): socket is Socket {
  return typeof (socket as Socket | null)?.join === 'function' && typeof (socket as Socket).leave === 'function'
}

function isWebSocket (socket: unknown): socket is WebSocket {
  const ws = socket as WebSocket | null
  return typeof ws?.send === 'function' && typeof ws.terminate === 'function' && typeof ws.readyState === 'number'
}

/**
 * WebSockets (@fastify/websocket) and Socket.IO on every worker: broadcasts
 * that reach the clients of every worker and host, the open connections
 * counted, and on drain (reload, `maxMemory`, stop) the connections kept
 * through `shutdownDelay`, then closed so their clients reconnect elsewhere.
 */
async function realtimePlugin (fastify: FastifyInstance, options: RealtimeOptions): Promise<void> {
  const opts = resolveOptions(options)
  const worker = workerContext()
  let draining = false
  let drainTimer: NodeJS.Timeout | undefined

  let wss: WebSocketServer | undefined
  let channels: WsChannels | undefined
  // before @fastify/websocket's own (preClose hooks run in order): on a plain close, clients hear Going Away, not a bare close
  fastify.addHook('preClose', async () => { startDrain(0) })
  if (opts.websocket !== false) {
    if (!fastify.hasDecorator('websocketServer')) await fastify.register(websocketPlugin, opts.websocket)
    wss = (fastify as FastifyInstance & { websocketServer: WebSocketServer }).websocketServer
    let bus = (fastify as FastifyInstance & { bus?: Bus }).bus
    if (bus === undefined) {
      // in a cluster the other workers' sockets are only reachable through a bus
      if (worker !== null) throw new NoBusError()
      bus = processBus()
    }
    channels = new WsChannels(bus, opts.channelPrefix, fastify.log)
  }

  let io: Server | undefined
  let adapter: AdapterKind | undefined
  if (opts.socketio !== false) {
    ({ io, adapter } = await attachSocketIo(fastify.server, opts.socketio, opts.redis, opts.channelPrefix, worker, () => draining, wss !== undefined, fastify.log))
  }

  const connections = (): ConnectionCounts => ({ websocket: wss?.clients.size ?? 0, socketio: io?.engine.clientsCount ?? 0 })

  const closeAll = (): void => {
    clearTimeout(drainTimer)
    if (wss !== undefined) for (const socket of wss.clients) socket.close(GOING_AWAY, 'server going away')
    // a transport close, not a Socket.IO disconnect: the client reconnects by itself, and recovers its session
    if (io !== undefined) for (const client of Object.values(engineClients(io))) client.close()
  }

  const startDrain = (delay: number): void => {
    if (draining) return
    draining = true
    fastify.log.info({ connections: connections(), shutdownDelay: delay }, 'realtime: draining, connections close after shutdownDelay')
    // not awaited: cluster-boot stops accepting meanwhile, and waits for these connections to end
    if (delay > 0) drainTimer = setTimeout(closeAll, delay)
    else closeAll()
  }

  const broadcast = async (channel: string, data: unknown): Promise<void> => {
    checkChannel(channel)
    io?.to(channel).emit(channel, data)
    if (channels !== undefined) await channels.publish(channel, data)
  }

  const membership = async (socket: WebSocket | Socket, channel: string, join: boolean): Promise<void> => {
    checkChannel(channel)
    if (isSocketIo(socket)) {
      await (join ? socket.join(channel) : socket.leave(channel))
    } else if (channels !== undefined && isWebSocket(socket)) {
      if (join) await channels.subscribe(socket, channel)
      else channels.unsubscribe(socket, channel)
    } else {
      throw new InvalidSocketError(channels === undefined && isWebSocket(socket) ? 'a WebSocket, but the `websocket` option is off' : typeof socket)
    }
  }

  fastify.decorate('realtime', {
    broadcast,
    subscribe: (socket: WebSocket | Socket, channel: string) => membership(socket, channel, true),
    unsubscribe: (socket: WebSocket | Socket, channel: string) => membership(socket, channel, false),
    get connections () { return connections() },
    get io () { return io },
    get adapter () { return adapter },
    get draining () { return draining },
    closeAll
  } satisfies RealtimeApi)

  if (wss !== undefined) {
    // a client sent away while this worker still listens must not land here again
    fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      if (draining && request.headers.upgrade?.toLowerCase() === 'websocket') {
        return reply.code(503).header('connection', 'close').header('retry-after', '1').send(new DrainingError())
      }
    })
  }
  registerGauge(fastify, connections)
  worker?.onDrain(() => startDrain(opts.shutdownDelay))
  if (io !== undefined) {
    const server = io
    fastify.addHook('onClose', async () => {
      // the HTTP server is Fastify's to close: Socket.IO's close() would close it again
      (server as unknown as { httpServer?: unknown }).httpServer = undefined
      await server.close()
    })
  }
}

export const corralRealtime = fp(realtimePlugin, {
  name: '@corral/realtime',
  fastify: '5.x'
})
