import t from 'tap'
import Fastify from 'fastify'
import { Cluster } from 'ioredis'
import { corralHealth, redisCheck } from '@corral/health'
import { waitFor } from '../../../test/helpers/index.js'
import { startRedisCluster } from '../../../test/helpers/redis-cluster.js'

async function healthOn (t, client) {
  const app = Fastify()
  await app.register(corralHealth, { cacheMs: 0, checks: { redis: redisCheck(client, { timeout: 1000 }) } })
  t.teardown(() => app.close())
  return app
}

function clusterClient (t, cluster) {
  const client = new Cluster(cluster.seeds, { redisOptions: { commandTimeout: 500, maxRetriesPerRequest: 1 } })
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  return client
}

t.test('on a Cluster, a slot without a master fails the check with cluster_state, where a PING would pass', async (t) => {
  const cluster = await startRedisCluster()
  t.teardown(cluster.close)
  const client = clusterClient(t, cluster)
  const app = await healthOn(t, client)
  t.equal((await app.inject('/health/ready')).statusCode, 200)

  await cluster.node.ask('CLUSTER', 'DELSLOTSRANGE', '0', '99')
  t.equal(await client.ping(), 'PONG', 'PING alone still passes')
  const res = await app.inject('/health')
  t.equal(res.statusCode, 503)
  t.match(res.json().checks['redis:responseTime'][0], { status: 'fail', output: /cluster_state:fail/ })
})

t.test('on a Cluster, one hung master fails the check whichever node the client asks', async (t) => {
  const cluster = await startRedisCluster({ masters: 2 })
  t.teardown(cluster.close)
  const client = clusterClient(t, cluster)
  const app = await healthOn(t, client)
  await waitFor(async () => (await app.inject('/health/ready')).statusCode === 200, { timeout: 10_000, message: 'both masters known' })

  cluster.nodes[1].pause()
  t.teardown(() => cluster.nodes[1].resume())
  // five probes: a check that asked one random node would pass some of them
  for (let i = 0; i < 5; i++) {
    const res = await app.inject('/health')
    t.equal(res.statusCode, 503, `probe ${i + 1} fails`)
  }
  cluster.nodes[1].resume()
  await waitFor(async () => (await app.inject('/health/ready')).statusCode === 200, { timeout: 10_000, message: 'ready again' })
})
