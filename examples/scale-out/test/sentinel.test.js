// Two hosts of the example app behind the shipped nginx config, on Redis
// Sentinel (1 master, 2 replicas, 3 sentinels) configured by REDIS_SENTINELS
// and REDIS_SENTINEL_NAME. Under session load the master is SIGKILLed:
// sessions must survive, 503s must stay inside the failover window, and
// afterwards, with nothing restarted, pub/sub delivers and "log out
// everywhere" removes every session of a user.
import { test } from 'tap'
import { waitFor } from '../../../test/helpers/index.js'
import { logoutEverywhere, outside, pubsubDelivers } from '../lib/checks.mjs'
import { startHosts } from '../lib/hosts.mjs'
import { startNginx } from '../lib/nginx.mjs'
import { startRedisSentinel } from '../lib/redis-topology.mjs'
import { login, lostSessions, pause, runLoad } from '../lib/traffic.mjs'

// clients reconnect to the new master within their retry back-off (2 s at most)
const SETTLE_MS = 3000

test('Redis Sentinel: the master killed under load: sessions survive, 503s only during the failover, pub/sub and logout-everywhere work after', async (t) => {
  const sentinel = await startRedisSentinel()
  t.teardown(() => sentinel.close())
  const hosts = await startHosts(2, { REDIS_SENTINELS: sentinel.seeds, REDIS_SENTINEL_NAME: sentinel.name })
  t.teardown(() => Promise.all(hosts.map((h) => h.close())))
  const nginx = await startNginx(hosts.map((h) => `${h.address}:${h.port}`))
  t.teardown(() => nginx.close())

  await pubsubDelivers(nginx.url)
  const users = await login(nginx.url, 30)
  const load = runLoad(nginx.url, users, { concurrency: 8 })
  t.teardown(() => load.stop())
  await pause(1500)

  const old = await sentinel.masterPort()
  const killedAt = Date.now()
  await sentinel.node(old).kill()
  await waitFor(async () => (await sentinel.masterPort()) !== old, { timeout: 30_000, interval: 200, message: 'the sentinels promoted a replica' })
  const failover = Date.now() - killedAt

  await pause(SETTLE_MS)
  const before = load.stats().failed
  await pause(2000)
  const cleanAfter = load.stats().failed - before
  const figures = await load.stop()
  const lost = await lostSessions(nginx.url, users)
  const broadcasts = await pubsubDelivers(nginx.url)
  const logout = await logoutEverywhere(nginx.url, 'everywhere')
  const ready = await waitFor(async () => (await fetch(`${nginx.url}/health/ready`)).status === 200, { timeout: 15_000, message: 'ready' }).then(() => true, () => false)

  const stray = outside(load.windows503, [[killedAt, killedAt + failover + SETTLE_MS]])
  t.comment(`scale-out sentinel: ${figures.failed} failed of ${figures.total} requests (${figures.status503} answered 503), longest 503 window ${figures.longest503} ms, ${lost.length} of ${users.length} sessions lost; the failover took ${failover} ms; pub/sub delivered again after ${broadcasts} broadcast(s); logout-all removed ${logout.removed} of ${logout.count}`)
  t.ok(figures.total > 200, `traffic flowed throughout (${figures.total} requests)`)
  t.equal(figures.failed, figures.status503, `every failure is a 503: ${JSON.stringify(load.failures.filter((f) => f.kind !== '503').slice(0, 5))}`)
  t.same(stray, [], '503s only inside the failover window')
  t.equal(cleanAfter, 0, 'no failure once the failover is over')
  t.same(lost, [], 'every session survived')
  t.equal(logout.removed, logout.count, 'logout-all removed every session of the user')
  t.equal(logout.survivors, 0, 'no session of the user answers after logout-all')
  t.ok(ready, `/health/ready passes again after the failover (the Redis check sees every master)`)
})
