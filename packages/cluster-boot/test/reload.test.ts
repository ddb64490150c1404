import { writeFileSync, rmSync, mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'tap'
import { spawnNode, waitFor } from '@corral/test-helpers'
import { fixture, startCluster } from './fixtures/cluster.js'

const pids = async (admin) => (await admin('/supervisor')).body.workers.map((w) => w.pid).sort()

test('two rolling reloads under keep-alive load fail no request', async (t) => {
  const { admin, proc, port } = await startCluster(t)
  const first = await pids(admin)
  const load = spawnNode(fixture('load.mjs'), { args: [`http://127.0.0.1:${port}/`, '7', '20'] })
  t.teardown(() => load.stop('SIGKILL'))
  await new Promise((resolve) => setTimeout(resolve, 1000))

  proc.child.kill('SIGHUP')
  await proc.waitForLine((l) => l.msg === 'rolling reload done', 20_000)
  const second = await pids(admin)
  proc.child.kill('SIGHUP')
  await waitFor(() => proc.lines.filter((l) => l.msg === 'rolling reload done').length === 2, { timeout: 20_000, message: 'the second reload' })
  const third = await pids(admin)

  const result = await load.waitForLine((l) => l.requests !== undefined, 20_000)
  t.ok(result.requests > 100, `the load ran (${result.requests} requests)`)
  t.equal(result.errors, 0, 'no connection errors')
  t.equal(result.timeouts, 0, 'no timeouts')
  t.equal(result.non2xx, 0, 'no non-2xx answers')
  t.equal(second.filter((p) => first.includes(p)).length, 0, 'the first reload replaced every worker')
  t.equal(third.filter((p) => second.includes(p)).length, 0, 'the second too')
  t.same((await admin('/supervisor')).body.workers.map((w) => w.slot), [0, 1], 'slots kept')
})

test('a replacement that never becomes ready is killed and the old worker kept', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-ready-'))
  const flag = path.join(dir, 'ready')
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // room for a slow start on a loaded machine; a replacement that never gets ready still fails within it
  const { admin, proc } = await startCluster(t, { opts: { readyTimeout: 5000 }, env: { FIXTURE_READY_FILE: flag } })
  const before = await pids(admin)

  writeFileSync(flag, 'never')
  const res = await admin('/reload', { method: 'POST' })
  t.equal(res.status, 500)
  t.match(res.body, { ok: false, replaced: [], failedSlot: 0 })
  t.same(await pids(admin), before, 'the old workers still serve')
  t.ok(proc.lines.some((l) => l.msg === 'worker not ready within readyTimeout: killing it'))
  t.notOk(proc.lines.some((l) => l.msg === 'worker died' && before.includes(l.pid)), 'no old worker was touched')

  writeFileSync(flag, 'throw')
  t.match((await admin('/reload', { method: 'POST' })).body, { ok: false, failedSlot: 0 }, 'a readiness check that throws counts as not ready')

  writeFileSync(flag, 'ok')
  const again = await admin('/reload', { method: 'POST' })
  t.match(again.body, { ok: true, replaced: [0, 1] }, 'once ready again, a reload goes through')
})

test('reloads asked for during a reload join it', async (t) => {
  const { admin } = await startCluster(t)
  const [a, b] = await Promise.all([admin('/reload', { method: 'POST' }), admin('/reload', { method: 'POST' })])
  t.same(a.body, b.body)
  t.equal((await admin('/supervisor')).body.reloads, 1)
})
