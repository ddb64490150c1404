// One Fastify process with sessions on Redis: STORE=corral (@corral/redis-session)
// or STORE=connect-redis (@fastify/session + connect-redis on node-redis).
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
} else {
  const { redisSession } = await import('@corral/redis-session')
  await app.register(redisSession, { secret: SECRET, redis: REDIS_URL, keyPrefix: PREFIX, cache: false, bus: false })
}

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
// this process' CPU time: a per-request cost less exposed to a busy machine than requests/s
app.get('/__cpu', async () => { const { user, system } = process.cpuUsage(); return { us: user + system } })

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.on('SIGTERM', () => { app.close().then(() => process.exit(0)) })
