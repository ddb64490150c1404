import { test } from 'tap'
import { waitFor } from '@corral/test-helpers'
import { startCluster } from './fixtures/cluster.js'

test('a throwing exit listener in the primary neither skips the respawn nor stops the cluster', async (t) => {
  const { admin, proc } = await startCluster(t, { env: { FIXTURE_THROWING_LISTENER: 'exit,restart' } })
  const before = (await admin('/supervisor')).body.workers.find((w) => w.slot === 0)
  process.kill(before.pid, 'SIGKILL')
  const replaced = await waitFor(async () => {
    const w = (await admin('/supervisor')).body.workers.find((w) => w.slot === 0 && w.state === 'ready')
    return w && w.pid !== before.pid ? w : null
  }, { timeout: 20_000, message: 'slot 0 respawned' })
  t.not(replaced.pid, before.pid, 'slot 0 has a new worker')
  const state = (await admin('/supervisor')).body
  t.equal(state.stopping, false, 'the primary did not stop')
  t.equal(state.workers.filter((w) => w.state === 'ready').length, 2, 'both slots serve')
  t.equal(proc.child.exitCode, null, 'the primary is alive')
  t.ok(proc.lines.some((l) => l.msg === 'supervisor event listener failed' && l.event === 'exit'), 'the listener error is logged')
})

test('a throwing stopped listener in the primary does not keep it from exiting', async (t) => {
  const { proc } = await startCluster(t, { env: { FIXTURE_THROWING_LISTENER: 'stopped' } })
  proc.child.kill('SIGTERM')
  const exit = await Promise.race([proc.exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000))])
  t.not(exit, 'hung', 'the primary exited')
  t.equal(exit !== 'hung' && exit.signal, null, 'on its own, not killed')
})
