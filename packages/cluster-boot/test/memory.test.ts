import { test } from 'tap'
import { waitFor } from '@corral/test-helpers'
import { startCluster } from './fixtures/cluster.js'

test('a worker whose RSS passes maxMemory is replaced gracefully, in its slot', async (t) => {
  const { admin, get, proc } = await startCluster(t, { opts: { workers: 1, maxMemory: '200M', statsInterval: 100 } })
  const [before] = (await admin('/supervisor')).body.workers
  const leak = await get('/leak?mb=250')
  t.equal(leak.body.pid, before.pid)

  const line = await proc.waitForLine((l) => l.msg === 'worker passed maxMemory: replacing it', 10_000)
  t.match(line, { slot: 0, pid: before.pid, maxMemory: 200 * 1024 * 1024 })
  const state = await waitFor(async () => {
    const body = (await admin('/supervisor')).body
    return body.memoryRestarts === 1 && body.workers.length === 1 ? body : null
  }, { message: 'the replacement to take over' })
  t.not(state.workers[0].pid, before.pid, 'a new process serves')
  t.equal(state.workers[0].slot, 0)
  t.ok(proc.lines.some((l) => l.msg === 'worker exited' && l.pid === before.pid && l.code === 0), 'the old one drained and exited 0')
  t.equal((await get('/')).status, 200)
})
