// Two hosts of the example app behind the shipped nginx config, on a real
// Redis Cluster (3 masters, 3 replicas) configured by REDIS_CLUSTER_NODES.
// Under session load, the master of the bus channel's slot is SIGKILLed;
// once its replica took over, another master is SIGSTOPped until its replica
// takes over too, then resumed. Sessions must survive, 503s must stay inside
// the failover windows, and afterwards, with nothing restarted, pub/sub
// delivers and "log out everywhere" reaches sessions in every slot.
import { test } from 'tap'
import { waitFor } from '@corral/test-helpers'
import { checkRecovery, SETTLE_MS, underLoad } from '../lib/failover.mjs'
import { startRedisCluster } from '../lib/redis-topology.mjs'
import { pause } from '../lib/traffic.mjs'

test('Redis Cluster: a master killed and another hung under load: sessions survive, 503s only during failovers, pub/sub and logout-everywhere work after', async (t) => {
  const cluster = await startRedisCluster()
  t.teardown(() => cluster.close())
  const run = await underLoad(t, { REDIS_CLUSTER_NODES: cluster.seeds })
  const promoted = (port, message) => waitFor(async () => !(await cluster.masters()).includes(port) && await cluster.healthy(), { timeout: 30_000, message })

  // 1. SIGKILL the master that carries the bus channel
  const killed = await cluster.masterFor('corral-example:bus:example')
  const killedAt = Date.now()
  await cluster.node(killed).kill()
  await promoted(killed, 'a replica promoted for the killed master')
  const firstFailover = Date.now() - killedAt
  await pause(SETTLE_MS)

  // 2. SIGSTOP another master (a hung machine), resumed once its replica took over;
  // not the one just promoted: its replica is the node killed in 1
  const hung = (await cluster.mastersWithReplica())[0]
  const hungAt = Date.now()
  cluster.node(hung).pause()
  await promoted(hung, 'a replica promoted for the hung master')
  const secondFailover = Date.now() - hungAt
  cluster.node(hung).resume()

  await checkRecovery(t, run, {
    name: 'redis-cluster',
    windows: [[killedAt, killedAt + firstFailover + SETTLE_MS], [hungAt, Date.now() + SETTLE_MS]],
    detail: `failovers took ${firstFailover} ms (SIGKILL) and ${secondFailover} ms (SIGSTOP)`
  })
})
