// The frame of a Redis failover scenario: hosts of the example app on a
// Redis topology behind nginx, session load, then, once the failovers are
// over, the figures and the assertions every topology shares.
import { waitFor } from '@corral/test-helpers'
import { logoutEverywhere, outside, pubsubDelivers } from './checks.mjs'
import { startHosts } from './hosts.mjs'
import { startNginx } from './nginx.mjs'
import { login, lostSessions, pause, runLoad } from './traffic.mjs'

// a promoted master reaches every worker's client by then (slot map refresh, reconnect back-off)
export const SETTLE_MS = 3000

/** 2 hosts with `env` behind nginx, 30 users logged in, pub/sub checked, load running. */
export async function underLoad (t, env) {
  const hosts = await startHosts(2, env)
  t.teardown(() => Promise.all(hosts.map((h) => h.close())))
  const nginx = await startNginx(hosts.map((h) => `${h.address}:${h.port}`))
  t.teardown(() => nginx.close())
  await pubsubDelivers(nginx.url)
  const users = await login(nginx.url, 30)
  const load = runLoad(nginx.url, users, { concurrency: 8 })
  t.teardown(() => load.stop())
  await pause(1500)
  return { url: nginx.url, users, load }
}

/**
 * After the failovers (`windows`: [from, to] ms where 503s are expected):
 * a clean stretch of load, then sessions, pub/sub, logout-all and readiness,
 * printed as one line of figures and asserted.
 */
export async function checkRecovery (t, { url, users, load }, { name, windows, detail }) {
  await pause(SETTLE_MS)
  const before = load.stats().failed
  await pause(2000)
  const cleanAfter = load.stats().failed - before
  const figures = await load.stop()
  const lost = await lostSessions(url, users)
  const broadcasts = await pubsubDelivers(url)
  const logout = await logoutEverywhere(url, 'everywhere')
  const ready = await waitFor(async () => (await fetch(`${url}/health/ready`)).status === 200, { timeout: 15_000, message: 'ready' }).then(() => true, () => false)
  const stray = outside(load.windows503, windows)

  t.comment(`scale-out ${name}: ${figures.failed} failed of ${figures.total} requests (${figures.status503} answered 503), longest 503 window ${figures.longest503} ms, ${lost.length} of ${users.length} sessions lost; ${detail}; pub/sub delivered again after ${broadcasts} broadcast(s); logout-all removed ${logout.removed} of ${logout.count}`)
  t.ok(figures.total > 200, `traffic flowed throughout (${figures.total} requests)`)
  t.equal(figures.failed, figures.status503, `every failure is a 503: ${JSON.stringify(load.failures.filter((f) => f.kind !== '503').slice(0, 5))}`)
  t.same(stray, [], '503s only inside the failover windows')
  t.equal(cleanAfter, 0, 'no failure once the failovers are over')
  t.same(lost, [], 'every session survived')
  t.equal(logout.removed, logout.count, 'logout-all removed every session of the user')
  t.equal(logout.survivors, 0, 'no session of the user answers after logout-all')
  t.ok(ready, '/health/ready passes again (the Redis check sees the new master)')
}
