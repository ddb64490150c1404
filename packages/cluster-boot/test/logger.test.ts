import { test } from 'tap'
import { waitFor } from '@corral/test-helpers'
import { startCluster } from './fixtures/cluster.js'

test('logger: false serves with no line from cluster-boot', async (t) => {
  const { proc, get } = await startCluster(t, { opts: { logger: false }, waitReady: false })
  await waitFor(async () => (await get('/')).status === 200, { timeout: 20_000, message: 'a worker answers' })
  t.same(proc.lines.filter((l) => l.fixture !== true), [], 'nothing logged but the fixture\'s own lines')
})

test('a logger with a transport logs through it, bound to who logs', async (t) => {
  const { proc } = await startCluster(t, { opts: { logger: { transport: { target: 'pino/file', options: { destination: 1 } } } }, waitReady: false })
  const ready = await proc.waitForLine((l) => l.msg === 'all workers ready', 20_000)
  t.match(ready, { role: 'primary', primaryPid: proc.child.pid })
})
