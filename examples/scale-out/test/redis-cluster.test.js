// Two hosts of the example app behind the shipped nginx config, on a real
// Redis Cluster (3 masters, 3 replicas) configured by REDIS_CLUSTER_NODES.
// Under session load, the master of the bus channel's slot is SIGKILLed;
// once its replica took over, another master is SIGSTOPped until its replica
// takes over too, then resumed. Sessions must survive, 503s must stay inside
// the failover windows, and afterwards, with nothing restarted, pub/sub
// delivers and "log out everywhere" reaches sessions in every slot.
import { test } from 'tap'
import { waitFor } from '../../../test/helpers/index.js'
import { logoutEverywhere, outside, pubsubDelivers } from '../lib/checks.mjs'
import { startHosts } from '../lib/hosts.mjs'
import { startNginx } from '../lib/nginx.mjs'
import { startRedisCluster } from '../lib/redis-topology.mjs'
import { login, lostSessions, pause, runLoad } from '../lib/traffic.mjs'

// a promoted replica reaches every worker's slot map by the next refresh
const SETTLE_MS = 3000

test('Redis Cluster: a master killed and another hung under load: sessions survive, 503s only during failovers, pub/sub and logout-everywhere work after', async (t) => {
  const cluster = await startRedisCluster()
  t.teardown(() => cluster.close())
  const hosts = await startHosts(2, { REDIS_CLUSTER_NODES: cluster.seeds })
  t.teardown(() => Promise.all(hosts.map((h) => h.close())))
  const nginx = await startNginx(hosts.map((h) => `${h.address}:${h.port}`))
  t.teardown(() => nginx.close())

  await pubsubDelivers(nginx.url)
  const users = await login(nginx.url, 30)
  const load = runLoad(nginx.url, users, { concurrency: 8 })
  t.teardown(() => load.stop())
  await pause(1500)

  // 1. SIGKILL the master that carries the bus channel
  const killed = await cluster.masterFor('corral-example:bus:example')
  const killedAt = Date.now()
  await cluster.node(killed).kill()
  await waitFor(async () => !(await cluster.masters()).includes(killed) && await cluster.healthy(), { timeout: 30_000, message: 'a replica promoted for the killed master' })
  const firstFailover = Date.now() - killedAt
  await pause(SETTLE_MS)

  // 2. SIGSTOP another master (a hung machine), resumed once its replica took over;
  // not the one just promoted: its replica is the node killed in 1
  const hung = (await cluster.mastersWithReplica())[0]
  const hungAt = Date.now()
  cluster.node(hung).pause()
  await waitFor(async () => !(await cluster.masters()).includes(hung) && await cluster.healthy(), { timeout: 30_000, message: 'a replica promoted for the hung master' })
  const secondFailover = Date.now() - hungAt
  cluster.node(hung).resume()
  const recoveredAt = Date.now()

  // 3. nothing restarted: the load runs clean again
  await pause(SETTLE_MS)
  const before = load.stats().failed
  await pause(2000)
  const cleanAfter = load.stats().failed - before
  const figures = await load.stop()
  const lost = await lostSessions(nginx.url, users)
  const broadcasts = await pubsubDelivers(nginx.url)
  const logout = await logoutEverywhere(nginx.url, 'everywhere')
  const ready = await waitFor(async () => (await fetch(`${nginx.url}/health/ready`)).status === 200, { timeout: 15_000, message: 'ready' }).then(() => true, () => false)

  const windows = [[killedAt, killedAt + firstFailover + SETTLE_MS], [hungAt, recoveredAt + SETTLE_MS]]
  const stray = outside(load.windows503, windows)
  t.comment(`scale-out redis-cluster: ${figures.failed} failed of ${figures.total} requests (${figures.status503} answered 503), longest 503 window ${figures.longest503} ms, ${lost.length} of ${users.length} sessions lost; failovers took ${firstFailover} ms (SIGKILL) and ${secondFailover} ms (SIGSTOP); pub/sub delivered again after ${broadcasts} broadcast(s); logout-all removed ${logout.removed} of ${logout.count}`)
  t.ok(figures.total > 200, `traffic flowed throughout (${figures.total} requests)`)
  t.equal(figures.failed, figures.status503, `every failure is a 503: ${JSON.stringify(load.failures.filter((f) => f.kind !== '503').slice(0, 5))}`)
  t.same(stray, [], '503s only inside the failover windows')
  t.equal(cleanAfter, 0, 'no failure once the failovers are over')
  t.same(lost, [], 'every session survived')
  t.equal(logout.removed, logout.count, 'logout-all removed every session of the user')
  t.equal(logout.survivors, 0, 'no session of the user answers after logout-all')
  t.ok(ready, `/health/ready passes again after the failovers (the Redis check sees every master)`)
})
