// Three hosts (each a cluster-boot primary with 2 workers of the example app)
// behind the shipped nginx config, on one Redis: a host SIGKILLed under load,
// a rolling reload across the others, a host drained with SIGTERM. Not one
// request may fail and not one session may be lost.
import { test } from 'tap'
import { startRedisServer } from '@corral/test-helpers'
import { startHosts, startHost } from '../lib/hosts.mjs'
import { startNginx } from '../lib/nginx.mjs'
import { login, lostSessions, pause, runLoad } from '../lib/traffic.mjs'

test('3 hosts behind nginx on one Redis: a host killed, a rolling reload, a host drained: 0 failed, 0 lost', async (t) => {
  const redis = await startRedisServer()
  t.teardown(() => redis.close())
  const env = { REDIS_URL: redis.url }
  const hosts = await startHosts(3, env)
  t.teardown(() => Promise.all(hosts.map((h) => h.close())))
  const nginx = await startNginx(hosts.map((h) => `${h.address}:${h.port}`))
  t.teardown(() => nginx.close())

  const users = await login(nginx.url, 30)
  const load = runLoad(nginx.url, users, { concurrency: 8 })
  t.teardown(() => load.stop())
  const [a, b, c] = hosts

  await pause(1500)
  b.killAll()
  await b.exited
  const afterKill = load.stats().total
  await pause(1500)

  await a.reload()
  await c.reload()
  const afterReload = load.stats().total

  // b comes back, then c leaves gracefully
  hosts[1] = await startHost(b.address, b.port, env)
  await pause(1000)
  const { code } = await c.drain()
  await pause(1500)
  const figures = await load.stop()
  const lost = await lostSessions(nginx.url, users)

  t.comment(`scale-out hosts: ${figures.failed} failed of ${figures.total} requests (${afterKill} by the kill, ${afterReload} by the end of the reloads), ${lost.length} of ${users.length} sessions lost, longest 503 window ${figures.longest503} ms`)
  t.equal(code, 0, 'the drained host exits 0')
  t.ok(figures.total > 200, `traffic flowed throughout (${figures.total} requests)`)
  t.equal(figures.failed, 0, `no failed request: ${JSON.stringify(load.failures.slice(0, 5))}`)
  t.same(lost, [], 'every session survived')
})
