import { test } from 'tap'
import type { AppFactory } from '@corral/cluster-boot'
import { resolveOptions } from '../dist/options.js'
import { waitFor } from '@corral/test-helpers'
import { startCluster } from './fixtures/cluster.js'

// never called: resolveOptions only checks that app is a function
const app = (() => null) as unknown as AppFactory

test('a worker whose event loop is blocked is marked unresponsive, killed after killTimeout and respawned', async (t) => {
  const { admin, get, proc } = await startCluster(t, { opts: { hangTimeout: 1000, statsInterval: 100, killTimeout: 1000 } })
  const { body } = await get('/block?ms=30000')
  const hung = body.pid
  const seen = await waitFor(async () => {
    const w = (await admin('/supervisor')).body.workers.find((w) => w.pid === hung)
    return w?.state === 'unresponsive' ? w : null
  }, { timeout: 10_000, interval: 50, message: 'the blocked worker marked unresponsive' })
  t.equal(seen.state, 'unresponsive', '/supervisor shows it')
  const slot = seen.slot
  const replaced = await waitFor(async () => {
    const state = (await admin('/supervisor')).body
    const w = state.workers.find((w) => w.slot === slot && w.state === 'ready')
    return w && w.pid !== hung ? state : null
  }, { timeout: 20_000, message: 'a new ready worker in its slot' })
  t.equal(replaced.hangRestarts, 1, 'counted as a hang restart')
  t.match(replaced.slots[slot].lastError, /unresponsive/)
  t.ok(proc.lines.some((l) => l.msg === 'worker unresponsive: no heartbeat within hangTimeout, replacing it' && l.pid === hung))
  t.ok(proc.lines.some((l) => l.msg === 'worker died' && l.pid === hung && l.signal === 'SIGKILL' && l.reason === 'unresponsive'))
  t.equal((await get('/')).status, 200)
})

test('a worker that reports again within killTimeout of being marked unresponsive is kept', async (t) => {
  const { admin, get, proc } = await startCluster(t, { opts: { workers: 1, hangTimeout: 500, statsInterval: 100, killTimeout: 15_000 } })
  const { body } = await get('/block?ms=2000')
  await waitFor(async () => (await admin('/supervisor')).body.workers[0].state === 'unresponsive', { timeout: 10_000, interval: 50, message: 'marked unresponsive' })
  const back = await waitFor(async () => {
    const [w] = (await admin('/supervisor')).body.workers
    return w.state === 'ready' ? w : null
  }, { timeout: 10_000, message: 'ready again' })
  t.equal(back.pid, body.pid, 'the same worker, not replaced')
  t.ok(proc.lines.some((l) => l.msg === 'worker responsive again' && l.pid === body.pid))
  t.equal((await admin('/supervisor')).body.hangRestarts, 0)
})

test('hangTimeout: false leaves a blocked worker alone', async (t) => {
  const { admin, get } = await startCluster(t, { opts: { hangTimeout: false, statsInterval: 100, workers: 1 } })
  const { body } = await get('/block?ms=1500')
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const [w] = (await admin('/supervisor')).body.workers
  t.equal(w.pid, body.pid, 'the same worker')
  t.equal(w.state, 'ready')
})

test('a stall between two stats reports shows as the max event-loop delay', async (t) => {
  const { admin, get } = await startCluster(t, { opts: { workers: 1, statsInterval: 1000 } })
  await get('/block?ms=400')
  const w = await waitFor(async () => {
    const [w] = (await admin('/supervisor')).body.workers
    return w.eventLoopDelayMax >= 350 ? w : null
  }, { timeout: 5000, message: 'eventLoopDelayMax to show the stall' })
  t.ok(w.eventLoopDelayMax >= 350, `max delay ${w.eventLoopDelayMax} ms`)
})

test('hangTimeout is validated: more than statsInterval, or 0 / false for off', async (t) => {
  t.equal(resolveOptions({ app }).hangTimeout, 30_000, 'on by default')
  t.equal(resolveOptions({ app, hangTimeout: false }).hangTimeout, 0)
  t.equal(resolveOptions({ app, hangTimeout: 0 }).hangTimeout, 0)
  t.throws(() => resolveOptions({ app, hangTimeout: 500, statsInterval: 1000 }), { code: 'CORRAL_INVALID_OPTION', message: /"hangTimeout".*more than statsInterval \(1000 ms\)/ })
  // @ts-expect-error wrong on purpose
  t.throws(() => resolveOptions({ app, hangTimeout: 'soon' }), { code: 'CORRAL_INVALID_OPTION', message: /"hangTimeout"/ })
})

test('a slot whose only worker is unresponsive shows as unresponsive, not starting', async (t) => {
  const { admin, get } = await startCluster(t, { opts: { workers: 1, hangTimeout: 500, statsInterval: 100, killTimeout: 15_000 } })
  await get('/block?ms=2500')
  const state = await waitFor(async () => {
    const s = (await admin('/supervisor')).body
    return s.workers[0].state === 'unresponsive' ? s : null
  }, { timeout: 10_000, interval: 50, message: 'marked unresponsive' })
  t.equal(state.slots[0].status, 'unresponsive')
})

test('a hung worker SIGKILLed with a stats report already on its way is not taken back as ready', async (t) => {
  const { admin, get, proc } = await startCluster(t, { opts: { workers: 1, hangTimeout: 500, statsInterval: 100, killTimeout: 1500 } })
  // the worker blocks 3 s (unresponsive at ~0.6 s, due for SIGKILL at ~2.1 s); the primary is blocked from 1.5 s to 4.5 s,
  // so when it wakes the kill is due and the report the worker sent on waking at ~3 s is already in the pipe
  await admin('/primary-block?delay=1500&ms=3000', { method: 'POST' })
  const { body } = await get('/block?ms=3000')
  const died = await proc.waitForLine((l) => l.msg === 'worker died' && l.pid === body.pid, 20_000)
  t.equal(died.reason, 'unresponsive', 'it died as the hung worker it was')
  const kill = proc.lines.findIndex((l) => l.msg === 'worker still unresponsive after killTimeout: SIGKILL' && l.pid === body.pid)
  t.ok(kill !== -1, 'it was SIGKILLed for the hang')
  t.notOk(proc.lines.slice(kill).some((l) => l.msg === 'worker responsive again' && l.pid === body.pid), 'not responsive again after the kill')
})
