import { test } from 'tap'
// the wire format is internal: checked here as a unit
import { isEnvelope } from '../dist/ipc/ipc-bus.js'
import { waitFor } from '@corral/test-helpers'
import { startCluster } from './fixtures/cluster.js'

test('envelopes are recognised by shape', async (t) => {
  t.ok(isEnvelope({ corral: 'metrics', data: {} }))
  t.ok(isEnvelope({ corral: 'x', rid: 3 }))
  t.notOk(isEnvelope(null))
  t.notOk(isEnvelope('corral'))
  t.notOk(isEnvelope({ corral: '' }))
  t.notOk(isEnvelope({ corral: 42 }))
  t.notOk(isEnvelope({ corral: 'x', rid: 'one' }))
  t.notOk(isEnvelope({ corral: 'x', re: 1.5 }))
  t.notOk(isEnvelope({ corral: 'x', err: {} }))
  t.notOk(isEnvelope({ corral: 'x', err: 'e', code: 7 }))
  t.notOk(isEnvelope({ corral: 'x'.repeat(200) }))
})

test('a worker asks the primary and gets its answer', async (t) => {
  const { get } = await startCluster(t)
  const { body } = await get('/ask?ns=echo')
  t.match(body.answer, { echoed: { from: Number }, fromSlot: body.answer.echoed.from })
})

test('requests fail with a code: no handler, handler threw, no reply in time', async (t) => {
  const { get } = await startCluster(t)
  t.equal((await get('/ask?ns=nobody')).body.code, 'CORRAL_IPC_NO_HANDLER')
  t.equal((await get('/ask?ns=fails')).body.code, 'CORRAL_IPC_REMOTE')
  t.equal((await get('/ask?ns=never&timeout=200')).body.code, 'CORRAL_IPC_TIMEOUT')
  t.equal((await get('/ask?ns=echo')).status, 200, 'and the bus still works after a timeout')
})

test('malformed and unknown messages are dropped and counted, and the worker keeps serving', async (t) => {
  const { get, admin, proc } = await startCluster(t, { opts: { workers: 1 } })
  const before = (await admin('/bus-stats')).body
  await get('/garbage')
  const after = await waitFor(async () => {
    const s = (await admin('/bus-stats')).body
    return s.malformed >= before.malformed + 3 && s.unknown >= before.unknown + 1 ? s : null
  }, { message: 'the drops to be counted' })
  t.ok(after.malformed - before.malformed >= 3, 'non-envelopes and bad control messages counted as malformed')
  t.ok(after.unknown - before.unknown >= 1, 'a namespace nobody listens on counted as unknown')
  t.equal((await get('/')).status, 200, 'the worker still serves')
  t.notOk(proc.lines.some((l) => l.msg === 'worker died'))
})

test('the primary broadcasts to every worker', async (t) => {
  const { get, admin } = await startCluster(t, { opts: { workers: 2 } })
  const { body } = await admin('/broadcast', { method: 'POST' })
  t.equal(body.reached, 2)
  await waitFor(async () => (await get('/broadcasts')).body.received.length === 1, { message: 'the broadcast to arrive' })
})

test('a reply is accepted only from the worker that was asked', async (t) => {
  const { admin } = await startCluster(t, { opts: { workers: 2 } })
  const { body } = await admin('/ask-forged')
  t.equal(body.code, 'CORRAL_IPC_TIMEOUT', 'the forged replies from the other worker were ignored')
  t.notOk('answer' in body)
})
