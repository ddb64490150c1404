import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'tap'
import { waitFor } from '@corral/test-helpers'
import { startCluster } from './fixtures/cluster.js'

test('a worker start-up error quoting credentials never reaches /supervisor or the log, and is bounded', async (t) => {
  const crashFile = path.join(tmpdir(), `corral-secret-${process.pid}-${Date.now()}`)
  const long = 'x'.repeat(5000)
  const { admin, proc } = await startCluster(t, {
    opts: { restartDelay: 2000 },
    env: { FIXTURE_CRASH_FILE: crashFile, FIXTURE_THROW_MESSAGE: `cannot reach redis://:s3cret@h ${long}` }
  })
  writeFileSync(crashFile, 'message')
  const before = (await admin('/supervisor')).body.workers.find((w) => w.slot === 0)
  process.kill(before.pid, 'SIGKILL')
  const slot = await waitFor(async () => {
    const s = (await admin('/supervisor')).body.slots[0]
    return s.lastError?.includes('redis://') ? s : null
  }, { timeout: 20_000, message: 'the respawn failing with the secret error' })
  t.match(slot.lastError, /redis:\/\/\*\*\*@h/, 'the credentials are masked')
  t.ok(slot.lastError.length <= 301, `lastError bounded (${slot.lastError.length} chars)`)
  const body = JSON.stringify((await admin('/supervisor')).body)
  t.notMatch(body, /s3cret/, '/supervisor never shows the secret')
  t.notMatch(JSON.stringify(proc.lines), /s3cret/, 'the log never shows it')
  t.notMatch(JSON.stringify(proc.lines), /E{65}/, 'the error code is bounded')
})

test('a ready worker cannot rewrite the reason its slot shows with a late start-up failure', async (t) => {
  const { admin, get } = await startCluster(t, { opts: { workers: 1, restartDelay: 2000 } })
  const { body } = await get('/fake-failed')
  await new Promise((resolve) => setTimeout(resolve, 200))
  process.kill(body.pid, 'SIGKILL')
  const slot = await waitFor(async () => {
    const s = (await admin('/supervisor')).body.slots[0]
    return s.lastError !== undefined ? s : null
  }, { timeout: 20_000, message: 'the crash recorded' })
  t.notMatch(slot.lastError, /forged/, 'the forged start-up error is ignored')
  t.match(slot.lastError, /SIGKILL/, 'the real reason shows')
})
