import t from 'tap'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { redisSession } from '@corral/redis-session'
import { REDIS_URL, assertDecorated, freePort, request, sleep, spawnNode, startRedisServer, waitFor } from '@corral/test-helpers'
import { startRedisCluster } from '@corral/test-helpers/redis-cluster'
import { SECRET } from './fixtures/session-app.js'
import { uniquePrefix } from './fixtures/redis.js'

async function appWithBus (t, options = {}, logs: any[] = []) {
  const app = Fastify({ logger: { level: 'info', stream: { write: (l) => logs.push(JSON.parse(l)) } } })
  await app.register(redisSession, { secret: SECRET, cache: false, ...options })
  t.teardown(() => app.close())
  return app
}

function inbox (app, channel) {
  const messages: any[] = []
  return app.bus.subscribe(channel, (message, ch) => { messages.push({ message, ch }) }).then((unsubscribe) => ({ messages, unsubscribe }))
}

t.test('two instances on one Redis get each other\'s messages, as JSON', async (t) => {
  const prefix = uniquePrefix('pubsub')
  const a = await appWithBus(t, { redis: REDIS_URL, keyPrefix: prefix })
  assertDecorated(a, 'bus')
  const b = await appWithBus(t, { redis: REDIS_URL, keyPrefix: prefix })
  assertDecorated(b, 'bus')
  const inA = await inbox(a, 'news')
  const inB = await inbox(b, 'news')
  await a.bus.publish('news', { text: 'hello', n: 1 })
  await waitFor(() => inA.messages.length === 1 && inB.messages.length === 1, { message: 'delivery' })
  t.same(inB.messages[0], { message: { text: 'hello', n: 1 }, ch: 'news' })
  await inB.unsubscribe()
  await b.bus.publish('news', 'second')
  await waitFor(() => inA.messages.length === 2)
  await sleep(50)
  t.equal(inB.messages.length, 1, 'unsubscribed')
})

t.test('a handler that throws is logged; a message that is not JSON is dropped; neither is fatal', async (t) => {
  const prefix = uniquePrefix('pubsub-bad')
  const logs: any[] = []
  const app = await appWithBus(t, { redis: REDIS_URL, keyPrefix: prefix }, logs)
  assertDecorated(app, 'bus')
  await app.bus.subscribe('c', () => { throw new Error('handler bug') })
  await app.bus.subscribe('c', async () => { throw new Error('async handler bug') })
  const good = await inbox(app, 'c')
  const raw = new Redis(REDIS_URL)
  t.teardown(() => raw.quit())
  await raw.publish(`${prefix}bus:c`, '{not json')
  await app.bus.publish('c', 42)
  await waitFor(() => good.messages.length === 1)
  await waitFor(() => logs.filter((l) => l.msg.includes('handler failed')).length === 2, { message: 'both failures logged' })
  t.ok(logs.some((l) => l.msg.includes('not JSON')))
  t.same(good.messages, [{ message: 42, ch: 'c' }])
  await t.rejects(app.bus.publish('', 1), TypeError)
  await t.rejects(app.bus.publish('c', undefined), TypeError)
})

t.test('after Redis restarts, subscribers are resubscribed and told so', async (t) => {
  const server = await startRedisServer()
  t.teardown(() => server.close())
  const a = await appWithBus(t, { redis: server.url })
  assertDecorated(a, 'bus')
  const b = await appWithBus(t, { redis: server.url })
  assertDecorated(b, 'bus')
  const inB = await inbox(b, 'news')
  let resubscribed = 0
  b.bus.onResubscribe(() => { resubscribed++ })
  await server.stop()
  await t.rejects(a.bus.publish('news', 'lost'), { code: 'CORRAL_BUS_UNAVAILABLE' })
  await server.start()
  await waitFor(() => resubscribed === 1, { message: 'onResubscribe' })
  await waitFor(async () => {
    await a.bus.publish('news', 'after').catch(() => {})
    return inB.messages.some((m) => m.message === 'after')
  }, { message: 'messages flow again' })
  t.equal(resubscribed, 1)
})

t.test('in a single process, the bus is local', async (t) => {
  const app = await appWithBus(t)
  assertDecorated(app, 'bus')
  const box = await inbox(app, 'x')
  await app.bus.publish('x', { a: 1 })
  t.equal(box.messages.length, 0, 'never delivered inline')
  await waitFor(() => box.messages.length === 1)
  await box.unsubscribe()
})

for (const backend of ['primary', 'redis']) {
  t.test(`across 2 workers (${backend}): every worker gets every message`, async (t) => {
    const prefix = uniquePrefix(`bus-${backend}`)
    const port = await freePort()
    const proc = spawnNode(new URL('./fixtures/shared-cluster.mjs', import.meta.url).pathname, {
      env: { PORT: String(port), PREFIX: prefix, REDIS_URL, ...(backend === 'redis' ? { SESSION_REDIS: REDIS_URL } : {}) }
    })
    t.teardown(() => proc.stop())
    const url = `http://127.0.0.1:${port}`
    // both workers subscribed: each has answered
    const up = new Set()
    await waitFor(async () => {
      const res = await request(`${url}/received`)
      if (res.status === 200) up.add(res.body.slot)
      return up.size === 2
    }, { message: 'both workers up' })
    t.equal((await request(`${url}/publish`, { method: 'POST', body: { text: 'hi' } })).status, 200)
    const seen = new Map()
    await waitFor(async () => {
      const res = await request(`${url}/received`)
      seen.set(res.body.slot, res.body.received)
      return seen.size === 2 && [...seen.values()].every((r) => r.length === 1)
    }, { message: 'both workers received it' })
    t.ok([...seen.values()].every((r) => r[0].text === 'hi'))
  })
}

t.test('two subscribes racing on a channel whose subscription fails both fail, and neither handler stays registered', async (t) => {
  const server = await startRedisServer()
  t.teardown(() => server.close())
  const app = await appWithBus(t, { redis: server.url, commandTimeout: 300 })
  assertDecorated(app, 'bus')
  const a = await appWithBus(t, { redis: server.url })
  assertDecorated(a, 'bus')
  await server.stop()
  const got: any[] = []
  const results = await Promise.allSettled([
    app.bus.subscribe('race', (m) => { got.push(['first', m]) }),
    app.bus.subscribe('race', (m) => { got.push(['second', m]) })
  ])
  t.same(results.map((r) => r.status), ['rejected', 'rejected'], 'both callers told')
  t.same(results.map((r) => r.status === 'rejected' && r.reason?.code), ['CORRAL_BUS_UNAVAILABLE', 'CORRAL_BUS_UNAVAILABLE'])
  await server.start()
  await waitFor(async () => {
    try {
      await app.bus.subscribe('race', (m) => { got.push(['third', m]) })
      return true
    } catch { return false }
  }, { message: 'a later subscribe succeeds' })
  await waitFor(async () => {
    await a.bus.publish('race', 'hi').catch(() => {})
    return got.length > 0
  }, { message: 'delivery' })
  await sleep(100)
  t.ok(got.every(([who]) => who === 'third'), 'only the handler that subscribed gets messages')
})

t.test('a pub/sub message that would poison a prototype is dropped with a warning; a message over 1 MiB is refused', async (t) => {
  const prefix = uniquePrefix('pubsub-poison')
  const logs: any[] = []
  const app = await appWithBus(t, { redis: REDIS_URL, keyPrefix: prefix }, logs)
  assertDecorated(app, 'bus')
  const box = await inbox(app, 'p')
  const raw = new Redis(REDIS_URL)
  t.teardown(() => raw.quit())
  await raw.publish(`${prefix}bus:p`, '{"__proto__":{"admin":true},"a":1}')
  await raw.publish(`${prefix}bus:p`, '{"constructor":{"prototype":{"admin":true}}}')
  await app.bus.publish('p', { ok: 1 })
  await waitFor(() => box.messages.length >= 1)
  await sleep(50)
  t.same(box.messages, [{ message: { ok: 1 }, ch: 'p' }], 'only the clean message delivered')
  t.equal(logs.filter((l) => l.msg.includes('dropped')).length, 2, 'each poisoned one logged')
  await t.rejects(app.bus.publish('p', 'x'.repeat(1024 * 1024)), { name: 'TypeError', message: /1048576 bytes/ })
})

t.test('embedded: the primary refuses to rebroadcast a worker\'s message over 1 MiB', async (t) => {
  const port = await freePort()
  const proc = spawnNode(new URL('./fixtures/session-cluster.mjs', import.meta.url).pathname, { env: { PORT: String(port) } })
  t.teardown(() => proc.stop())
  await proc.waitForLine((l) => l.msg === 'all workers ready', 60_000)
  const res = await request(`http://127.0.0.1:${port}/huge-publish`, { method: 'POST' })
  t.equal(res.status, 200)
  t.not(res.body, 'accepted', `refused (${JSON.stringify(res.body)})`)
})

t.test('on a Redis Cluster without sharded pub/sub (Redis < 7), the bus falls back to plain pub/sub with one warning', async (t) => {
  // SSUBSCRIBE and SPUBLISH refused, as by a Redis 6 Cluster
  const { seeds, close } = await startRedisCluster({ masters: 2, args: ['--rename-command', 'SSUBSCRIBE', 'gone-ssubscribe', '--rename-command', 'SPUBLISH', 'gone-spublish', '--rename-command', 'SUNSUBSCRIBE', 'gone-sunsubscribe'] })
  t.teardown(close)
  const prefix = uniquePrefix('old-cluster')
  const logs: any[] = []
  const a = await appWithBus(t, { redis: { cluster: { nodes: seeds } }, keyPrefix: prefix }, logs)
  assertDecorated(a, 'bus')
  const b = await appWithBus(t, { redis: { cluster: { nodes: seeds } }, keyPrefix: prefix })
  assertDecorated(b, 'bus')
  const box = await inbox(b, 'news')
  await waitFor(async () => {
    await a.bus.publish('news', 'hi')
    return box.messages.length > 0
  }, { message: 'delivery over plain pub/sub' })
  t.same(box.messages[0], { message: 'hi', ch: 'news' })
  t.equal(logs.filter((l) => l.msg.includes('plain pub/sub')).length, 1, 'one warning')
})
