import type { FastifyInstance } from 'fastify'
import websocket from '@fastify/websocket'
import type { WebSocket } from 'ws'
import { workerContext, type WorkerContext } from '@corral/cluster-boot'
import { chatPage } from './live-page.js'

/** The channel POST /broadcast publishes on (routes/sessions.ts): what it publishes, the sockets get too. */
const CHANNEL = 'example'
const MAX_MESSAGE = 4096
/** Going Away: the client reconnects, and reaches a worker that stays. */
const GOING_AWAY = 1001

/**
 * A live channel over plain WebSockets: /live (the socket) and /chat (a page
 * using it). What a client sends, and what POST /broadcast publishes, reaches
 * the clients of every worker on every host: it goes through `app.bus`
 * (@corral/redis-session's pub/sub: Redis when REDIS_URL is set, else the
 * primary), and each worker writes what it receives to its own sockets.
 * Needs the sessions feature registered first (it decorates `app.bus`).
 */
export async function liveFeature (app: FastifyInstance, worker?: WorkerContext): Promise<void> {
  const context = worker ?? workerContext() ?? undefined
  const bus = app.bus
  if (bus === undefined) throw new Error('the live feature needs @corral/redis-session registered first, with its bus')
  const clients = new Set<WebSocket>()
  const fanOut = (data: unknown): void => {
    const text = JSON.stringify(data)
    for (const socket of clients) if (socket.readyState === socket.OPEN) socket.send(text)
  }
  const publish = (text: string): void => {
    bus.publish(CHANNEL, { text, fromSlot: context?.slot ?? null, at: Date.now() }).catch((err: unknown) => app.log.warn({ err }, 'live publish failed'))
  }
  await bus.subscribe(CHANNEL, fanOut)
  // on a reload or a stop: the clients learn it now and reconnect to a worker that stays
  context?.onDrain(() => {
    for (const socket of clients) socket.close(GOING_AWAY, 'worker draining')
  })

  await app.register(websocket, { options: { maxPayload: MAX_MESSAGE } })
  app.get('/live', { websocket: true }, (socket) => {
    clients.add(socket)
    socket.on('close', () => clients.delete(socket))
    socket.on('message', (raw) => {
      const text = raw.toString().slice(0, MAX_MESSAGE)
      if (text.trim() !== '') publish(text)
    })
    socket.send(JSON.stringify({ hello: true, slot: context?.slot ?? null, pid: process.pid }))
  })
  app.get('/live/clients', async () => ({ slot: context?.slot ?? null, pid: process.pid, clients: clients.size }))
  app.get('/chat', async (_request, reply) => reply.type('text/html; charset=utf-8').send(chatPage))
}
