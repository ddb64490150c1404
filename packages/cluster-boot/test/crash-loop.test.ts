import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'tap'
import { sleep, waitFor } from '@corral/test-helpers'
import { startCluster } from './fixtures/cluster.js'

const state = async (admin) => (await admin('/supervisor')).body

test('a crash-looping slot backs off with a growing delay while the other slots keep serving', async (t) => {
  const { admin, get, proc } = await startCluster(t, { opts: { maxRestarts: 2, restartDelay: 50, minUptime: 60_000 } })
  const healthy = (await state(admin)).workers.find((w) => w.slot === 1)
  let backoffSeen
  for (let i = 0; i < 6; i++) {
    await waitFor(async () => (await state(admin)).slots[0].status === 'up', { timeout: 20_000, message: `slot 0 up again (crash ${i})` })
    t.equal((await admin('/crash-slot?slot=0', { method: 'POST' })).body.sent, true)
    const s = await waitFor(async () => {
      const body = await state(admin)
      return body.slots[0].crashes === i + 1 ? body.slots[0] : null
    }, { timeout: 10_000, message: `crash ${i + 1} counted` })
    if (s.status === 'backoff') backoffSeen = s
  }
  t.equal(proc.child.exitCode, null, 'the primary still runs')
  const after = await state(admin)
  t.equal(after.crashLoop, false, 'no crash loop declared: the slot keeps getting ready')
  t.equal(after.workers.find((w) => w.slot === 1).pid, healthy.pid, 'the healthy slot was never touched')
  t.equal((await get('/')).status, 200, 'requests are served')
  const delays = proc.lines.filter((l) => l.msg === 'respawning worker' && l.slot === 0).map((l) => l.delay)
  t.same(delays, [50, 100, 200, 400, 800, 1600], 'the delay doubles per crash in a row')
  if (backoffSeen !== undefined) {
    t.match(backoffSeen, { slot: 0, status: 'backoff', respawnAt: Number, lastError: /code 1|crash/ }, 'a slot in backoff shows when it respawns and why')
  }
  t.match(after.slots[1], { slot: 1, status: 'up', crashes: 0 })
})

test('a slot in backoff shows in /supervisor with its respawn time and last error', async (t) => {
  const { admin } = await startCluster(t, { opts: { maxRestarts: 2, restartDelay: 3000, minUptime: 60_000 } })
  await admin('/crash-slot?slot=0', { method: 'POST' })
  const slot = await waitFor(async () => {
    const s = (await state(admin)).slots[0]
    return s.status === 'backoff' ? s : null
  }, { message: 'slot 0 in backoff' })
  t.match(slot, { slot: 0, status: 'backoff', crashes: 1, respawnAt: Number, lastError: 'exited with code 1' })
  t.ok(slot.respawnAt > Date.now(), 'the respawn is still ahead')
  t.match((await state(admin)).slots[1], { status: 'up' })
})

test('replacements that crash during reloads never count against the workers that serve', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-crash-'))
  const flag = path.join(dir, 'crash')
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const { admin, get, proc } = await startCluster(t, { opts: { maxRestarts: 1, restartWindow: 60_000 }, env: { FIXTURE_CRASH_FILE: flag } })
  const before = (await state(admin)).workers.map((w) => w.pid)
  writeFileSync(flag, 'crash')
  for (let i = 0; i < 4; i++) {
    const res = await admin('/reload', { method: 'POST' })
    t.match(res.body, { ok: false, failedSlot: 0 }, `reload ${i + 1} fails`)
  }
  await sleep(200)
  t.equal(proc.child.exitCode, null, 'the primary still runs')
  const after = await state(admin)
  t.same(after.workers.map((w) => w.pid), before, 'the serving workers are untouched')
  t.same(after.slots.map((s) => s.crashes), [0, 0], 'no crash counted against a slot')
  t.equal((await get('/')).status, 200)
})
