import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { corralRealtime } from '@corral/realtime'
import { workerContext, type WorkerContext } from '@corral/cluster-boot'
import { chatPage } from './live-page.js'

/** The channel of the chat: a set of WebSockets and a Socket.IO room; POST /broadcast (routes/sessions.ts) sends on it too. */
export const CHAT = 'chat'
const MAX_MESSAGE = 4096

/**
 * A live channel over both transports, through @corral/realtime: plain
 * WebSockets at /live, Socket.IO at /socket.io/ (its client script served by
 * the app), and /chat, a page using both. What a client sends, and what POST
 * /broadcast sends, reaches the clients of every worker on every host:
 * WebSocket messages over `app.bus` (Redis when REDIS_URL is set, else the
 * primary), Socket.IO ones through its adapter (Redis streams with
 * REDIS_URL, with connection-state recovery across workers; else the cluster
 * adapter through the primary, whose side the Socket.IO server asks cluster-boot
 * to load). On a reload, a memory restart or a stop,
 * clients are closed after REALTIME_SHUTDOWN_DELAY ms (WebSockets with 1001)
 * and reconnect to a worker that stays.
 * Needs the sessions feature registered first (it decorates `app.bus`).
 */
export async function liveFeature (app: FastifyInstance, worker?: WorkerContext): Promise<void> {
  const context = worker ?? workerContext() ?? undefined
  const where = { slot: context?.slot ?? null, pid: process.pid }
  const url = process.env.REDIS_URL
  // no commandTimeout: the Socket.IO adapter's reads block for seconds on purpose
  const redis = url === undefined || url === '' ? undefined : new Redis(url)
  if (redis !== undefined) app.addHook('onClose', async () => { await redis.quit() })
  await app.register(corralRealtime, {
    websocket: { options: { maxPayload: MAX_MESSAGE } },
    socketio: { maxHttpBufferSize: MAX_MESSAGE * 2 },
    redis,
    channelPrefix: 'corral-example:realtime:',
    shutdownDelay: Number(process.env.REALTIME_SHUTDOWN_DELAY ?? 0)
  })

  const say = (text: unknown, transport: 'websocket' | 'socket.io'): void => {
    const line = String(text).slice(0, MAX_MESSAGE)
    if (line.trim() === '') return
    app.realtime.broadcast(CHAT, { text: line, fromSlot: where.slot, transport, at: Date.now() })
      .catch((err: unknown) => app.log.warn({ err }, 'live: broadcast failed'))
  }

  app.get('/live', { websocket: true }, async (socket) => {
    socket.on('message', (raw) => say(raw.toString(), 'websocket'))
    await app.realtime.subscribe(socket, CHAT)
    socket.send(JSON.stringify({ hello: true, ...where }))
  })
  app.realtime.io?.on('connection', async (socket) => {
    socket.on(CHAT, (text: unknown) => say(text, 'socket.io'))
    // a recovered socket is back in its rooms, with what it missed
    if (!socket.recovered) await app.realtime.subscribe(socket, CHAT)
    socket.emit('hello', { ...where, recovered: socket.recovered })
  })
  app.get('/live/clients', async () => ({ ...where, ...app.realtime.connections }))
  app.get('/chat', async (_request, reply) => reply.type('text/html; charset=utf-8').send(chatPage))
}
