// Two hosts of the example app behind the shipped nginx config, on Redis
// Sentinel (1 master, 2 replicas, 3 sentinels) configured by REDIS_SENTINELS
// and REDIS_SENTINEL_NAME. Under session load the master is SIGKILLed:
// sessions must survive, 503s must stay inside the failover window, and
// afterwards, with nothing restarted, pub/sub delivers and "log out
// everywhere" removes every session of a user.
import { test } from 'tap'
import { waitFor } from '@corral/test-helpers'
import { checkRecovery, SETTLE_MS, underLoad } from '../lib/failover.mjs'
import { startRedisSentinel } from '../lib/redis-topology.mjs'

test('Redis Sentinel: the master killed under load: sessions survive, 503s only during the failover, pub/sub and logout-everywhere work after', async (t) => {
  const sentinel = await startRedisSentinel()
  t.teardown(() => sentinel.close())
  const run = await underLoad(t, { REDIS_SENTINELS: sentinel.seeds, REDIS_SENTINEL_NAME: sentinel.name })

  const old = await sentinel.masterPort()
  const killedAt = Date.now()
  await sentinel.node(old).kill()
  await waitFor(async () => (await sentinel.masterPort()) !== old, { timeout: 30_000, interval: 200, message: 'the sentinels promoted a replica' })
  const failover = Date.now() - killedAt

  await checkRecovery(t, run, {
    name: 'sentinel',
    windows: [[killedAt, killedAt + failover + SETTLE_MS]],
    detail: `the failover took ${failover} ms`
  })
})
