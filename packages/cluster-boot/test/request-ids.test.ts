import { test, type Test } from 'tap'
import { freePort, request, spawnNode } from '@corral/test-helpers'
import { fixture } from './fixtures/cluster.js'

type Line = Record<string, unknown>

// rr: the primary spreads connections, so both workers answer (the OS may give all of them to one)
async function startApp (t: Test, env: Record<string, string> = {}) {
  const port = await freePort()
  const proc = spawnNode(fixture('logging-app.mjs'), { env: { PORT: String(port), CORRAL_NAME: 'ids', FIXTURE_OPTS: JSON.stringify({ logs: false, scheduling: 'rr' }), ...env } })
  t.teardown(() => proc.stop('SIGTERM'))
  await proc.waitForLine((l: Line) => l.msg === 'all workers ready', 20_000)
  return { proc, port }
}

test('request ids are unique across two workers, and each names its slot', async (t) => {
  const { proc, port } = await startApp(t)
  const answers: Array<{ id: string, slot: number }> = []
  for (let i = 0; i < 200; i++) answers.push((await request(`http://127.0.0.1:${port}/id`)).body)
  t.equal(new Set(answers.map((a) => a.id)).size, 200, '200 distinct ids')
  t.same(new Set(answers.map((a) => a.slot)), new Set([0, 1]), 'from both workers')
  t.ok(answers.every((a) => new RegExp(`^w${a.slot}-\\d+-\\d+$`).test(a.id)), 'each id starts with its worker\'s slot')
  // the app's own lines: its logger says which slot wrote them
  const last = answers.at(-1) as { id: string, slot: number }
  const line = await proc.waitForLine((l: Line) => l.reqId === last.id && l.msg === 'id asked')
  t.equal(line.slot, last.slot, 'the app\'s request log line carries the slot')
})

test('requestIdHeader in the app\'s Fastify options still takes the incoming id', async (t) => {
  const { port } = await startApp(t, { FIXTURE_REQUEST_ID_HEADER: 'x-request-id' })
  t.equal((await request(`http://127.0.0.1:${port}/id`, { headers: { 'x-request-id': 'from-the-proxy' } })).body.id, 'from-the-proxy')
  t.match((await request(`http://127.0.0.1:${port}/id`)).body.id, /^w[01]-\d+-\d+$/, 'without the header, the cluster id')
})
