import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'tap'
import { waitFor } from '@corral/test-helpers'
import { startCluster } from './fixtures/cluster.js'

test('a drain sent to a worker that is still starting stops it at once, not after killTimeout', async (t) => {
  const { proc } = await startCluster(t, { opts: { workers: 1, killTimeout: 20_000, readyTimeout: 30_000 }, env: { FIXTURE_SLOW_START: '4000' }, waitReady: false })
  await proc.waitForLine((l) => l.fixture && l.event === 'factory started', 20_000)
  proc.child.kill('SIGTERM')
  const { code } = await proc.exited
  t.equal(code, 0)
  t.notOk(proc.lines.some((l) => l.msg === 'worker still running after killTimeout: SIGKILL'), 'no SIGKILL needed')
  t.ok(proc.lines.some((l) => l.msg === 'worker exited' && l.code === 0), 'the worker exited 0')
})

test('an uncaught exception in the primary is logged and every worker stops gracefully', async (t) => {
  const { admin, proc } = await startCluster(t)
  await admin('/primary-throw', { method: 'POST' })
  const { code } = await proc.exited
  t.equal(code, 1, 'exit 1')
  t.ok(proc.lines.some((l) => l.msg === 'uncaught exception in the primary: stopping gracefully' && /primary blew up/.test(l.err?.message)), 'logged with its error')
  t.equal(proc.lines.filter((l) => l.fixture && l.event === 'onClose').length, 2, 'every worker ran its onClose hooks')
  t.equal(proc.lines.filter((l) => l.msg === 'worker exited' && l.code === 0).length, 2, 'every worker exited 0')
})

test('a maxMemory replacement queued before stop() never forks during the stop', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-mem-'))
  const flag = path.join(dir, 'ready')
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const { admin, get, proc } = await startCluster(t, { opts: { workers: 1, maxMemory: '200M', statsInterval: 100, readyTimeout: 30_000 }, env: { FIXTURE_READY_FILE: flag } })
  // the old worker stays busy draining this one while the stop goes on
  const slow = get('/slow?ms=8000')
  await proc.waitForLine((l) => l.fixture && l.event === 'slow request')
  writeFileSync(flag, 'never')
  // a reload whose replacement never gets ready holds the queue
  admin('/reload', { method: 'POST' }).catch(() => {})
  await proc.waitForLine((l) => l.msg === 'worker forked' && l.replacing)
  const over = () => proc.lines.some((l) => l.msg === 'worker passed maxMemory: replacing it')
  for (let i = 0; i < 4 && !over(); i++) {
    await get('/leak?mb=250')
    await waitFor(over, { timeout: 2000, message: 'maxMemory passed' }).catch(() => {})
  }
  t.ok(over(), 'the old worker passed maxMemory: its replacement is queued behind the reload')
  proc.child.kill('SIGTERM')
  t.equal((await slow).status, 200, 'the in-flight request finished')
  await proc.exited
  const stopAt = proc.lines.findIndex((l) => l.msg === 'stopping: draining workers')
  t.ok(stopAt > 0)
  t.same(proc.lines.slice(stopAt).filter((l) => l.msg === 'worker forked'), [], 'no fork after the stop began')
})

test('stats a worker sends cannot overwrite its slot, pid, state or add fields in /supervisor', async (t) => {
  const { admin, get } = await startCluster(t, { opts: { workers: 1, statsInterval: 60_000 } })
  const [before] = (await admin('/supervisor')).body.workers
  await get('/fake-stats')
  const w = await waitFor(async () => {
    const [w] = (await admin('/supervisor')).body.workers
    return w.rss === 1234 ? w : null
  }, { message: 'the forged stats to arrive' })
  t.match(w, { slot: 0, pid: before.pid, id: before.id, state: 'ready', restarts: 0, heapUsed: 0 })
  t.notOk('evil' in w, 'unknown fields dropped')
})
