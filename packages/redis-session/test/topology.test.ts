import t from 'tap'
import Fastify from 'fastify'
import { Cluster, Redis } from 'ioredis'
import { redisFromEnv, redisSession } from '@corral/redis-session'
import { freePort, startRedisServer, waitFor } from '@corral/test-helpers'
import { buildSessionApp, SECRET, sessionCookie } from './fixtures/session-app.js'
import { startRedisCluster } from '@corral/test-helpers/redis-cluster'
import { uniquePrefix } from './fixtures/redis.js'

async function registering (options) {
  const app = Fastify()
  try {
    await app.register(redisSession, { secret: SECRET, ...options })
    await app.ready()
    return null
  } catch (err) {
    return err
  } finally {
    await app.close()
  }
}

t.test('cluster and sentinel shapes of the redis option are checked, naming the option', async (t) => {
  const badNode = await registering({ redis: { cluster: { nodes: ['localhost'] } } })
  t.equal(badNode.code, 'CORRAL_SESSION_INVALID_OPTION')
  t.match(badNode.message, /"redis\.cluster\.nodes\[0\]".*host:port/)
  t.match((await registering({ redis: { cluster: { nodes: [] } } })).message, /"redis\.cluster\.nodes"/)
  t.match((await registering({ redis: { sentinels: ['127.0.0.1:26379'] } })).message, /"redis\.name".*master name/)
  t.match((await registering({ redis: { sentinels: [{ host: '' }], name: 'm' } })).message, /"redis\.sentinels\[0\]"/)
  t.match((await registering({ redis: { cluster: null } })).message, /"redis\.cluster"/)
  t.match((await registering({ redis: { cluster: { nodes: ['a:1'], options: 3 } } })).message, /"redis\.cluster\.options"/)
  t.match((await registering({ redis: { cluster: { nodes: ['a:1'] }, sentinels: ['b:2'], name: 'm' } })).message, /must be either \{ cluster \} or \{ sentinels, name \}, not both/)
})

t.test('redisFromEnv: one node, a Cluster or Sentinel from the environment, and two at once refused', async (t) => {
  t.equal(redisFromEnv({}), undefined)
  t.equal(redisFromEnv({ REDIS_URL: 'redis://h:1' }), 'redis://h:1')
  t.same(redisFromEnv({ REDIS_CLUSTER_NODES: 'a:1, b:2,' }), { cluster: { nodes: ['a:1', 'b:2'] } })
  t.same(redisFromEnv({ REDIS_SENTINELS: 'a:1,b:2', REDIS_SENTINEL_NAME: 'm' }), { sentinels: ['a:1', 'b:2'], name: 'm' })
  t.throws(() => redisFromEnv({ REDIS_SENTINELS: 'a:1' }), /REDIS_SENTINEL_NAME/)
  t.throws(() => redisFromEnv({ REDIS_URL: 'redis://h:1', REDIS_CLUSTER_NODES: 'a:1' }), /REDIS_URL and REDIS_CLUSTER_NODES/)
})

t.test('a plain URL pointing at a Redis Cluster node is refused at start-up, suggesting the cluster option', async (t) => {
  const { node, close } = await startRedisCluster()
  t.teardown(close)
  const err = await registering({ redis: node.url, keyPrefix: uniquePrefix('detect') })
  t.equal(err?.code, 'CORRAL_SESSION_INVALID_OPTION')
  t.match(err.message, /option "redis" must be redis: \{ cluster: \{ nodes.* for a Redis Cluster node/)
})

t.test('session commands and publishes are bounded even on a passed-in client with ioredis defaults: a hung Redis gives a 503 in time', async (t) => {
  const server = await startRedisServer()
  t.teardown(() => server.close())
  // ioredis defaults: no commandTimeout, 20 retries: alone, it would wait as long as Redis hangs
  const client = new Redis(server.url)
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  const app = await buildSessionApp({ redis: client, keyPrefix: uniquePrefix('bounded'), commandTimeout: 500 })
  t.teardown(() => app.close())
  const cookie = sessionCookie(await app.inject({ method: 'POST', url: '/login', payload: { user: 'ann' } }))
  server.pause()
  try {
    const started = Date.now()
    const res = await app.inject({ url: '/me', headers: { cookie } })
    const took = Date.now() - started
    t.equal(res.statusCode, 503)
    t.equal(res.headers['retry-after'], '1')
    t.ok(took < 3000, `answered in ${took} ms`)
    const publishing = Date.now()
    const err = await app.bus.publish('news', { n: 1 }).catch((e) => e)
    t.equal(err?.code, 'CORRAL_BUS_UNAVAILABLE', 'a publish fails too')
    t.ok(Date.now() - publishing < 3000, 'in time')
  } finally {
    server.resume()
  }
  await waitFor(async () => (await app.inject({ url: '/me', headers: { cookie } })).statusCode === 200, { message: 'Redis back' })
})

t.test('on a Cluster, sessions work and the bus uses sharded pub/sub, resubscribing after its node comes back', async (t) => {
  const { node, close } = await startRedisCluster()
  t.teardown(close)
  const prefix = uniquePrefix('sharded')
  const app = await buildSessionApp({ redis: { cluster: { nodes: [`127.0.0.1:${node.port}`] } }, keyPrefix: prefix })
  t.teardown(() => app.close())
  const cookie = sessionCookie(await app.inject({ method: 'POST', url: '/login', payload: { user: 'cy' } }))
  t.equal((await app.inject({ url: '/me', headers: { cookie } })).json().user, 'cy')

  const got: any[] = []
  let resubscribed = 0
  await app.bus.subscribe('news', (m) => { got.push(m) })
  app.bus.onResubscribe(() => { resubscribed++ })
  t.equal(await node.ask('PUBSUB', 'SHARDCHANNELS'), `${prefix}bus:news`, 'subscribed with SSUBSCRIBE')
  await app.bus.publish('news', { n: 1 })
  await waitFor(() => got.length === 1, { message: 'sharded delivery' })

  await node.stop()
  await node.start()
  await waitFor(() => resubscribed === 1, { timeout: 15_000, message: 'onResubscribe after the node came back' })
  await waitFor(async () => {
    await app.bus.publish('news', { n: 2 }).catch(() => {})
    return got.some((m) => m.n === 2)
  }, { timeout: 10_000, interval: 200, message: 'delivery after the resubscribe' })
  t.pass('delivers again')

  node.pause()
  try {
    const started = Date.now()
    const err = await app.bus.publish('news', { n: 3 }).catch((e) => e)
    t.equal(err?.code, 'CORRAL_BUS_UNAVAILABLE', 'a publish to a hung master fails')
    t.ok(Date.now() - started < 3000, 'within the command timeout')
  } finally {
    node.resume()
  }
})

t.test('on a Cluster, unsubscribing the last handler of a channel leaves the shard channel', async (t) => {
  const { node, close } = await startRedisCluster()
  t.teardown(close)
  const prefix = uniquePrefix('sharded-off')
  const app = await buildSessionApp({ redis: { cluster: { nodes: [{ host: '127.0.0.1', port: node.port }] } }, keyPrefix: prefix })
  t.teardown(() => app.close())
  const off = await app.bus.subscribe('news', () => {})
  t.equal(await node.ask('PUBSUB', 'SHARDCHANNELS'), `${prefix}bus:news`)
  await off()
  await waitFor(async () => (await node.ask('PUBSUB', 'SHARDCHANNELS')) === '', { message: 'the shard channel left' })
  t.pass('left')
})

t.test('a Sentinel set-up that does not answer yet: the app starts, and session requests answer 503 in time', async (t) => {
  const app = await buildSessionApp({ redis: { sentinels: [`127.0.0.1:${await freePort()}`], name: 'nobody' }, keyPrefix: uniquePrefix('sentinel'), commandTimeout: 300 })
  t.teardown(() => app.close())
  const started = Date.now()
  const res = await app.inject({ method: 'POST', url: '/login', payload: { user: 'ed' } })
  t.equal(res.statusCode, 503)
  t.ok(Date.now() - started < 3000, 'answered in time')
})

t.test('a passed-in Cluster client is used as it is and left open', async (t) => {
  const { node, close } = await startRedisCluster()
  t.teardown(close)
  const client = new Cluster([{ host: '127.0.0.1', port: node.port }])
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  const app = await buildSessionApp({ redis: client, keyPrefix: uniquePrefix('passed') })
  const cookie = sessionCookie(await app.inject({ method: 'POST', url: '/login', payload: { user: 'di' } }))
  t.equal((await app.inject({ url: '/me', headers: { cookie } })).json().user, 'di')
  await app.close()
  t.equal(await client.ping(), 'PONG')
})
