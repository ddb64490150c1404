import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'tap'
import { waitFor } from '@corral/test-helpers'
import { startCluster } from './fixtures/cluster.js'

test('a slot whose worker crashes while its replacement starts, and whose replacement then misses readyTimeout, is respawned', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-slot-'))
  const flag = path.join(dir, 'ready')
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const { admin, proc } = await startCluster(t, { opts: { readyTimeout: 3000 }, env: { FIXTURE_READY_FILE: flag } })
  const old = (await admin('/supervisor')).body.workers.find((w) => w.slot === 0)

  writeFileSync(flag, 'never')
  const reload = admin('/reload', { method: 'POST' })
  await proc.waitForLine((l) => l.msg === 'worker forked' && l.replacing && l.slot === 0)
  process.kill(old.pid, 'SIGKILL')
  // the invariant, watched all along: a worker in the slot, or a respawn pending
  const gaps: unknown[] = []
  let watching = true
  const watch = (async () => {
    while (watching) { // eslint-disable-line no-unmodified-loop-condition -- cleared once the scenario is over
      const { workers, slots } = (await admin('/supervisor')).body
      for (const s of slots ?? []) {
        if (s.status !== 'backoff' && !workers.some((w) => w.slot === s.slot)) gaps.push(s)
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()
  t.match((await reload).body, { ok: false, failedSlot: 0 }, 'the reload fails on slot 0')
  writeFileSync(flag, 'ok')
  const slot0 = await waitFor(async () => {
    const w = (await admin('/supervisor')).body.workers.find((w) => w.slot === 0 && w.state === 'ready')
    return w ?? null
  }, { timeout: 20_000, message: 'a ready worker in slot 0 again' })
  watching = false
  await watch
  t.not(slot0.pid, old.pid)
  t.same(gaps, [], 'never a slot with no worker and no respawn pending')
})
