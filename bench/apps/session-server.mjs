// One Fastify process with sessions on Redis: STORE=corral (@corral/redis-session),
// STORE=connect-redis (@fastify/session + connect-redis on node-redis), or
// STORE=ioredis: the physical limit, the same routes doing the same reads and
// writes on ioredis with no session machinery (no signature, no Set-Cookie).
import Fastify from 'fastify'

const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz'
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const PREFIX = process.env.PREFIX ?? 'bench:'
const app = Fastify()

if (process.env.STORE === 'connect-redis') {
  const { createClient } = await import('redis')
  const { RedisStore } = await import('connect-redis')
  const { default: cookie } = await import('@fastify/cookie')
  const { default: session } = await import('@fastify/session')
  const client = createClient({ url: REDIS_URL })
  await client.connect()
  await app.register(cookie)
  await app.register(session, {
    secret: SECRET,
    store: new RedisStore({ client, prefix: PREFIX }),
    saveUninitialized: false,
    cookie: { secure: false, maxAge: 86_400_000 }
  })
  app.addHook('onClose', async () => { await client.quit() })
  sessionRoutes()
} else if (process.env.STORE === 'ioredis') {
  await bare()
} else {
  const { redisSession } = await import('@corral/redis-session')
  await app.register(redisSession, { secret: SECRET, redis: REDIS_URL, keyPrefix: PREFIX, cache: false, bus: false })
  sessionRoutes()
}

// the cookie's value is the key, unchecked; GETEX slides the TTL as the stores do
async function bare () {
  const { Redis } = await import('ioredis')
  // auto-pipelining, as @corral/redis-session's own client: one write for the commands of many requests
  const redis = new Redis(REDIS_URL, { enableAutoPipelining: true })
  const TTL = 86_400_000
  const keyOf = (request) => PREFIX + 'sess:' + /sessionId=([^;]*)/.exec(request.headers.cookie ?? '')?.[1]
  app.post('/login', async (_request, reply) => {
    const id = Math.random().toString(36).slice(2)
    await redis.set(PREFIX + 'sess:' + id, JSON.stringify({ userId: 'user', visits: 0 }), 'PX', TTL)
    reply.header('set-cookie', `sessionId=${id}; Path=/; HttpOnly`)
    return { ok: true }
  })
  app.get('/rw', async (request) => {
    const key = keyOf(request)
    const session = JSON.parse(await redis.getex(key, 'PX', TTL) ?? '{}')
    session.visits = (session.visits ?? 0) + 1
    await redis.set(key, JSON.stringify(session), 'PX', TTL, 'XX')
    return { visits: session.visits }
  })
  app.get('/r', async (request) => {
    const session = JSON.parse(await redis.getex(keyOf(request), 'PX', TTL) ?? '{}')
    return { user: session.userId ?? null }
  })
  app.addHook('onClose', async () => { await redis.quit() })
}

function sessionRoutes () {
  app.post('/login', async (request) => {
    await request.session.regenerate()
    request.session.set('userId', 'user')
    request.session.set('visits', 0)
    return { ok: true }
  })
  // reads and writes the session on every request
  app.get('/rw', async (request) => {
    const visits = (request.session.get('visits') ?? 0) + 1
    request.session.set('visits', visits)
    return { visits }
  })
  // reads only: most requests of a logged-in user
  app.get('/r', async (request) => ({ user: request.session.get('userId') ?? null }))
}

// this process' CPU time: a per-request cost less exposed to a busy machine than requests/s
app.get('/__cpu', async () => { const { user, system } = process.cpuUsage(); return { us: user + system } })

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.on('SIGTERM', () => { app.close().then(() => process.exit(0)) })
