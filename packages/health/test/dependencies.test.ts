import t from 'tap'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import pg from 'pg'
import { corralHealth, eventLoopCheck, memoryCheck, postgresCheck, redisCheck } from '@corral/health'
import { DATABASE_URL, REDIS_URL, freePort, startRedisServer, waitFor } from '@corral/test-helpers'

t.test('a Redis stopped then restarted: ready goes 503 then back to 200, live stays 200', async (t) => {
  const server = await startRedisServer()
  t.teardown(() => server.close())
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1, commandTimeout: 500, retryStrategy: () => 100 })
  redis.on('error', () => {})
  t.teardown(() => redis.disconnect())
  const app = Fastify()
  await app.register(corralHealth, { checkInterval: 0, checks: { redis: redisCheck(redis) } })
  t.teardown(() => app.close())

  const ok = await app.inject('/health')
  t.equal(ok.statusCode, 200)
  t.match(ok.json().checks['redis:responseTime'][0], { status: 'pass', observedUnit: 'ms', observedValue: Number })

  await server.stop()
  const down = await app.inject('/health/ready')
  t.equal(down.statusCode, 503)
  t.equal((await app.inject('/health/live')).statusCode, 200)

  await server.start()
  await waitFor(async () => (await app.inject('/health/ready')).statusCode === 200, { message: 'ready again' })
  t.pass('ready again on its own')
})

t.test('a Redis client still connecting makes the first probe wait for it, not fail', async (t) => {
  const app = Fastify()
  const clients = [
    new Redis(REDIS_URL, { enableOfflineQueue: false }),
    new Redis(REDIS_URL, { enableOfflineQueue: false, lazyConnect: true })
  ]
  t.teardown(() => { for (const c of clients) c.disconnect() })
  await app.register(corralHealth, { timeout: 5000, checks: { eager: redisCheck(clients[0]), lazy: redisCheck(clients[1]) } })
  t.teardown(() => app.close())
  t.equal(clients[0].status, 'connecting', 'the probe comes while the client connects')
  const res = await app.inject('/health')
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.json().checks['eager:responseTime'][0].status, 'pass')
  t.equal(res.json().checks['lazy:responseTime'][0].status, 'pass', 'a lazy client is connected by the check')
  t.equal(clients[0].listenerCount('ready'), 0, 'no listener left behind')
})

t.test('a Redis client that never gets ready fails within the check timeout and leaves no listener', async (t) => {
  const closedPort = await freePort()
  const redis = new Redis({ port: closedPort, enableOfflineQueue: false, retryStrategy: () => 50 })
  redis.on('error', () => {})
  t.teardown(() => redis.disconnect())
  const app = Fastify()
  await app.register(corralHealth, { checkInterval: 0, checks: { redis: { ...redisCheck(redis), timeout: 300 } } })
  t.teardown(() => app.close())
  for (let i = 0; i < 3; i++) {
    const res = await app.inject('/health')
    t.equal(res.statusCode, 503)
    t.match(res.json().checks['redis:responseTime'][0].output, /timed out after 300 ms/)
  }
  // ioredis keeps one 'ready' listener of its own while a connection attempt is under way
  t.ok(redis.listenerCount('ready') <= 1, 'each timed-out wait removed its listener')
})

t.test('Postgres: a pg Pool and a pg Client created just before the first probe pass it', async (t) => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 })
  t.teardown(() => pool.end())
  const client = new pg.Client({ connectionString: DATABASE_URL })
  const connecting = client.connect()
  t.teardown(async () => { await connecting.catch(() => {}); await client.end() })
  const app = Fastify()
  await app.register(corralHealth, { timeout: 5000, checks: { pool: postgresCheck(pool), client: postgresCheck(client) } })
  t.teardown(() => app.close())
  const res = await app.inject('/health')
  t.equal(res.statusCode, 200, res.body)
})

t.test('Postgres: SELECT 1 on a pg Pool; a refused connection fails without leaking the password', async (t) => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 })
  t.teardown(() => pool.end())
  const closedPort = await freePort()
  const broken = new pg.Pool({ connectionString: `postgres://app:hunter2@127.0.0.1:${closedPort}/x`, connectionTimeoutMillis: 500 })
  broken.on('error', () => {})
  t.teardown(() => broken.end())
  const app = Fastify()
  await app.register(corralHealth, {
    checks: {
      db: postgresCheck(pool),
      replica: postgresCheck(broken, { critical: false })
    }
  })
  t.teardown(() => app.close())
  const res = await app.inject('/health')
  t.equal(res.statusCode, 200, 'the non-critical replica only warns')
  const body = res.json()
  t.equal(body.checks['db:responseTime'][0].status, 'pass')
  t.equal(body.checks['replica:responseTime'][0].status, 'warn')
  t.match(body.checks['replica:responseTime'][0].output, /ECONNREFUSED|connect/)
  t.notMatch(res.body, /hunter2/)
})

t.test('event-loop and memory thresholds', async (t) => {
  // 1 s, the default: far above what a loaded machine's scheduler, GC or this
  // test's own start-up delay the loop by, and below the block further down
  const loop = eventLoopCheck({ maxDelay: 1000 })
  t.teardown(() => loop.stop())
  const app = Fastify()
  await app.register(corralHealth, {
    checkInterval: 0,
    checks: {
      loop,
      memory: memoryCheck({ maxHeapUsed: 16 * 1024 ** 3, maxRss: 16 * 1024 ** 3 }),
      tight: memoryCheck({ maxRss: 1024, critical: false }),
      heap: memoryCheck({ maxHeapUsed: 1024, critical: false }),
      busy: eventLoopCheck({ maxUtilization: 0, critical: false })
    }
  })
  await new Promise((resolve) => setTimeout(resolve, 1100)) // a utilisation window
  t.teardown(() => app.close())
  const first = (await app.inject('/health')).json()
  t.equal(first.checks['loop:utilization'][0].status, 'pass')
  t.match(first.checks['memory:utilization'][0], { status: 'pass', observedUnit: 'bytes', observedValue: { rss: Number, heapUsed: Number } })
  t.match(first.checks['tight:utilization'][0], { status: 'warn', output: /RSS \d+ bytes is over 1024/ })
  t.match(first.checks['heap:utilization'][0], { status: 'warn', output: /heap used/ })
  t.match(first.checks['busy:utilization'][0], { status: 'warn', output: /utilisation/ })

  // blocked longer than maxDelay: the loop is late by at least that much, however loaded the machine
  const until = Date.now() + 1200
  while (Date.now() < until) { /* a blocked loop */ }
  await new Promise((resolve) => setTimeout(resolve, 20))
  const blocked = await app.inject('/health')
  t.equal(blocked.statusCode, 503)
  t.match(blocked.json().checks['loop:utilization'][0].output, /event-loop delay \d+(\.\d)? ms is over 1000 ms/)
})
