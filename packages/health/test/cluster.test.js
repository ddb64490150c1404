import t from 'tap'
import { rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort, request, spawnNode, waitFor } from '../../../test/helpers/index.js'

const fixture = new URL('./fixtures/cluster.mjs', import.meta.url).pathname

t.test('the primary serves the machine view; a replacement that fails its check is not counted ready', async (t) => {
  const flag = path.join(os.tmpdir(), `corral-health-flag-${process.pid}`)
  t.teardown(() => rmSync(flag, { force: true }))
  const [port, adminPort] = [await freePort(), await freePort()]
  const proc = spawnNode(fixture, { env: { PORT: String(port), ADMIN_PORT: String(adminPort), FLAG: flag } })
  t.teardown(() => proc.stop())
  await proc.waitForLine((l) => l.msg === 'all workers ready')
  const admin = `http://127.0.0.1:${adminPort}/health`

  const view = await waitFor(async () => {
    const res = await request(admin)
    return res.body.workers?.length === 2 && res
  }, { message: 'two workers reported' })
  t.equal(view.status, 200)
  t.match(view.headers['content-type'], /application\/health\+json/)
  t.equal(view.body.status, 'pass')
  t.same(view.body.workers.map((w) => [w.slot, w.ready]), [[0, true], [1, true]])
  t.match(view.body.checks['workers:ready'][0], { observedValue: 2 })

  // new workers will fail their critical check: a reload must keep the old ones
  writeFileSync(flag, '')
  proc.child.kill('SIGHUP')
  await proc.waitForLine((l) => /reload/.test(l.msg) && (l.ok === false || /fail|not ready|timed out|kept/i.test(l.msg)), 20_000)
  const after = await request(admin)
  t.equal(after.body.status, 'pass', 'the old workers still serve')
  t.equal((await request(`http://127.0.0.1:${port}/health/ready`)).status, 200)

  rmSync(flag)
  const oldPids = after.body.workers.map((w) => w.pid).sort()
  proc.child.kill('SIGHUP')
  await waitFor(async () => {
    const res = await request(admin)
    const pids = res.body.workers.map((w) => w.pid).sort()
    return res.body.status === 'pass' && pids.length === 2 && pids.every((p) => !oldPids.includes(p))
  }, { timeout: 20_000, message: 'a reload with healthy replacements' })
})

t.test('no worker ready: 503', async (t) => {
  const flag = path.join(os.tmpdir(), `corral-health-flag2-${process.pid}`)
  writeFileSync(flag, '')
  t.teardown(() => rmSync(flag, { force: true }))
  const [port, adminPort] = [await freePort(), await freePort()]
  const proc = spawnNode(fixture, { env: { PORT: String(port), ADMIN_PORT: String(adminPort), FLAG: flag } })
  t.teardown(() => proc.stop('SIGKILL'))
  const res = await waitFor(async () => {
    const r = await request(`http://127.0.0.1:${adminPort}/health`)
    return r.body.workers?.length > 0 && r
  }, { message: 'reports' })
  t.equal(res.status, 503)
  t.equal(res.body.status, 'fail')
  t.equal(res.headers['retry-after'], '5')
})
