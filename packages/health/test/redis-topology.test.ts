import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import Fastify from 'fastify'
import { Cluster, Redis } from 'ioredis'
import { corralHealth, redisCheck } from '@corral/health'
import { freePort, startRedisServer, waitFor } from '@corral/test-helpers'
import { startRedisCluster } from '@corral/test-helpers/redis-cluster'

async function healthOn (t, client) {
  const app = Fastify()
  await app.register(corralHealth, { checkInterval: 0, checks: { redis: redisCheck(client, { timeout: 1000 }) } })
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

t.test('on Sentinel, the check passes on the master and fails when the client sits on a node that is no longer master', async (t) => {
  const server = await startRedisServer()
  t.teardown(() => server.close())
  const sentinelPort = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-sentinel-'))
  writeFileSync(path.join(dir, 'sentinel.conf'), [
    `port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor m 127.0.0.1 ${server.port} 1`, 'sentinel down-after-milliseconds m 60000'
  ].join('\n') + '\n')
  const sentinel = spawn('redis-server', [path.join(dir, 'sentinel.conf'), '--sentinel'], { stdio: 'ignore' })
  t.teardown(() => { sentinel.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }) })

  const client = new Redis({ sentinels: [{ host: '127.0.0.1', port: sentinelPort }], name: 'm', commandTimeout: 500, maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  const app = await healthOn(t, client)
  await waitFor(async () => (await app.inject('/health/ready')).statusCode === 200, { timeout: 10_000, message: 'ready through the sentinel' })

  // what a client left behind by a failover sees: its node turned replica
  const direct = new Redis(server.url)
  t.teardown(() => direct.disconnect())
  await direct.replicaof('127.0.0.1', String(await freePort()))
  const res = await app.inject('/health')
  t.equal(res.statusCode, 503)
  t.match(res.json().checks['redis:responseTime'][0], { status: 'fail', output: /not the master/ })
})
