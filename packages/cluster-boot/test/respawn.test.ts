import { test } from 'tap'
import { waitFor } from '@corral/test-helpers'
import { startCluster } from './fixtures/cluster.js'

test('a worker killed with SIGKILL is respawned in the same slot', async (t) => {
  const { admin, proc } = await startCluster(t)
  const before = (await admin('/supervisor')).body.workers
  t.equal(before.length, 2)
  const victim = before.find((w) => w.slot === 1)
  process.kill(victim.pid, 'SIGKILL')

  const after = await waitFor(async () => {
    const { workers } = (await admin('/supervisor')).body
    const slot1 = workers.find((w) => w.slot === 1)
    return slot1 && slot1.pid !== victim.pid && slot1.state === 'ready' ? workers : null
  }, { timeout: 15_000, message: 'a new ready worker in slot 1' })

  t.same(after.map((w) => w.slot), [0, 1], 'still one worker per slot')
  t.equal(after.find((w) => w.slot === 1).restarts, 1, 'the slot counts its restart')
  t.equal(after.find((w) => w.slot === 0).pid, before.find((w) => w.slot === 0).pid, 'the other slot is untouched')
  const died = await proc.waitForLine((l) => l.msg === 'worker died' && l.pid === victim.pid)
  t.match(died, { slot: 1, signal: 'SIGKILL', reason: 'unexpected exit' }, 'the log says which worker died and why')
})

test('each worker knows its slot as fastify.worker and CORRAL_SLOT', async (t) => {
  const { get } = await startCluster(t)
  const seen = new Map()
  await waitFor(async () => {
    const { body } = await get('/')
    seen.set(body.slot, body)
    return seen.size === 2
  }, { message: 'answers from both slots' })
  for (const [slot, body] of seen) {
    t.equal(body.envSlot, String(slot))
    t.equal(body.decorated, slot)
  }
})

test('boot() resolves in the primary with its supervisor and in each worker with its listening app', async (t) => {
  const { proc } = await startCluster(t)
  const primary = await proc.waitForLine((l) => l.event === 'booted' && l.role === 'primary')
  t.same(primary.workers.sort(), [0, 1], 'the primary resolves once both workers are ready')
  const workers = await waitFor(() => {
    const booted = proc.lines.filter((l) => l.event === 'booted' && l.role === 'worker')
    return booted.length === 2 ? booted : null
  }, { message: 'both workers resolved' })
  t.same(workers.map((w) => w.workerSlot).sort(), [0, 1])
  t.ok(workers.every((w) => w.listening), 'a worker resolves once its app listens')
})

test('workers that crash before ever being ready, each differently, trip the crash-loop guard: the primary exits 1', async (t) => {
  const { proc } = await startCluster(t, { opts: { maxRestarts: 3 }, env: { FIXTURE_THROW: 'random' }, waitReady: false })
  const { code } = await proc.exited
  t.equal(code, 1, 'non-zero exit')
  const forks = proc.lines.filter((l) => l.msg === 'worker forked').length
  // each slot forks maxRestarts + 1 times; one that got there first may try once more while it waits for the other
  t.ok(forks <= 10, `stopped forking (forked ${forks} times for 2 slots and maxRestarts 3)`)
  t.ok(proc.lines.some((l) => l.msg?.includes('crash loop') && l.err?.code === 'CORRAL_CRASH_LOOP'), 'the log says why')
  t.ok(proc.lines.some((l) => l.msg === 'worker died' && /boom/.test(l.error)), "the worker's error is logged")
})

test('crashes in a row trip the guard even when the backoff spreads them beyond the window', async (t) => {
  // a 1 ms window never holds two crashes: only the in-a-row rule can stop this
  const { proc } = await startCluster(t, { opts: { workers: 1, maxRestarts: 3, restartWindow: 1, restartDelay: 20 }, env: { FIXTURE_THROW: 'random' }, waitReady: false })
  const { code } = await proc.exited
  t.equal(code, 1)
  t.equal(proc.lines.filter((l) => l.msg === 'worker forked').length, 4, 'the first fork and 3 respawns')
})

test('respawn delays grow exponentially per slot', async (t) => {
  const { proc } = await startCluster(t, { opts: { workers: 1, maxRestarts: 4, restartDelay: 50 }, env: { FIXTURE_THROW: 'random' }, waitReady: false })
  await proc.exited
  const delays = proc.lines.filter((l) => l.msg === 'respawning worker').map((l) => l.delay)
  t.same(delays, [50, 100, 200, 400])
})
