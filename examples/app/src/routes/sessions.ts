import type { FastifyInstance } from 'fastify'

declare module 'fastify' {
  interface Session {
    user?: string
    visits?: number
  }
}

const MAX_MESSAGES = 20
const LOOKUP_MS = 200

/**
 * The session, cache and pub/sub routes: POST /login, GET /me, POST /logout,
 * POST /logout-all, GET /cached/:key, POST /broadcast, GET /messages.
 */
export async function sessionRoutes (app: FastifyInstance): Promise<void> {
  // both are on unless redis-session was told `cache: false` / `bus: false`: refuse to start rather than fail per request
  const { cache, bus } = app
  if (cache === undefined || bus === undefined) throw new Error('sessionRoutes needs @corral/redis-session registered with its cache and bus')
  app.post<{ Body: { user: string } }>('/login', {
    schema: {
      body: {
        type: 'object',
        required: ['user'],
        properties: { user: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[\\w.@-]+$' } }
      }
    }
  }, async (request) => {
    // a fresh id at login, the old one destroyed: no session fixation
    await request.session.regenerate()
    request.session.set('user', request.body.user)
    request.session.set('visits', 0)
    return { user: request.body.user }
  })

  app.get('/me', async (request) => {
    const user = request.session.get('user')
    if (user === undefined) return { user: null }
    const visits = (request.session.get('visits') ?? 0) + 1
    request.session.set('visits', visits)
    return { user, visits, slot: app.worker?.slot ?? null }
  })

  app.post('/logout', async (request) => {
    await request.session.destroy()
    return { ok: true }
  })

  app.post('/logout-all', async (request, reply) => {
    const user = request.session.get('user')
    if (user === undefined) return await reply.code(401).send({ error: 'not logged in' })
    return { removed: await app.sessions.destroyAllFor(user) }
  })

  // a slow lookup behind the shared cache: concurrent misses make one lookup
  app.get<{ Params: { key: string } }>('/cached/:key', {
    schema: { params: { type: 'object', properties: { key: { type: 'string', maxLength: 64, pattern: '^[\\w-]+$' } } } }
  }, async (request) => {
    let hit = true
    const value = await cache.wrap(`lookup:${request.params.key}`, async () => {
      hit = false
      await new Promise((resolve) => setTimeout(resolve, LOOKUP_MS))
      return { key: request.params.key, computedAt: new Date().toISOString(), bySlot: app.worker?.slot ?? null }
    }, { ttl: 30_000 })
    return { hit, value }
  })

  // messages published by any worker of any machine, as this worker received them
  const received: unknown[] = []
  await bus.subscribe('example', (message) => {
    received.push(message)
    if (received.length > MAX_MESSAGES) received.shift()
  })
  bus.onResubscribe(() => { received.length = 0 })

  app.post<{ Body: { text: string } }>('/broadcast', {
    schema: { body: { type: 'object', required: ['text'], properties: { text: { type: 'string', maxLength: 1000 } } } }
  }, async (request) => {
    const message = { text: request.body.text, fromSlot: app.worker?.slot ?? null, at: Date.now() }
    // /messages reads the bus; the live channel's clients (WebSocket and Socket.IO) get it through @corral/realtime
    await Promise.all([bus.publish('example', message), app.realtime?.broadcast('chat', message)])
    return { ok: true }
  })

  app.get('/messages', async () => ({ slot: app.worker?.slot ?? null, messages: received }))
}
