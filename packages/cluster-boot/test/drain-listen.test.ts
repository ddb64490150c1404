import { test } from 'tap'
import { sleep } from '@corral/test-helpers'
import { startCluster } from './fixtures/cluster.js'

test('a drain that arrives while listen() is under way waits for it, then closes the listener', async (t) => {
  // each worker's factory takes 1.5 s, then it listens at once
  const { admin, proc } = await startCluster(t, { opts: { workers: 1 }, env: { FIXTURE_SLOW_START: '1500', FIXTURE_LOG_LISTEN: '1' } })
  const first = (await admin('/supervisor')).body.workers[0].pid
  process.kill(first, 'SIGKILL')
  const started = await proc.waitForLine((l) => l.event === 'factory started' && l.pid !== first, 20_000)
  // the primary stops answering for 4 s: the new worker's listen (a round trip to the primary) stays in flight
  await admin('/primary-block?delay=0&ms=4000', { method: 'POST' })
  await sleep(2500)
  process.kill(started.pid, 'SIGTERM')
  const closed = await proc.waitForLine((l) => l.event === 'onClose' && l.pid === started.pid, 20_000)
  const listened = proc.lines.findIndex((l) => l.event === 'listening' && l.pid === started.pid)
  t.ok(listened !== -1, 'its listen completed')
  t.ok(listened !== -1 && listened < proc.lines.indexOf(closed), 'before the drain closed the app')
})
