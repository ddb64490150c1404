import { test } from 'tap'
import http from 'node:http'
import { waitFor } from '@corral/test-helpers'
import { startCluster } from './fixtures/cluster.js'

// one GET on a fresh connection, given up after 15 s (a connection handed to a worker as it is killed gets no answer)
function get (port: number, path: string): Promise<{ status: number, body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 15_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode as number, body: JSON.parse(text) }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
  })
}

// Fresh connections from a few loops, so round-robin hands each to the next
// worker; every answer says whether its worker's readiness check passed then.
function probe (port, concurrency = 4) {
  const results = { ok: 0, failed: 0, early: [] as unknown[], errors: [] as string[] }
  let running = true
  const loop = async () => {
    while (running) { // eslint-disable-line no-unmodified-loop-condition -- cleared by stop()
      try {
        const res = await get(port, '/readiness')
        if (res.status !== 200) {
          results.failed++
          results.errors.push(`status ${res.status}`)
        } else if (!res.body.ready) results.early.push(res.body)
        else results.ok++
      } catch (err) {
        results.failed++
        results.errors.push(err.code ?? err.message)
      }
    }
  }
  const loops = Array.from({ length: concurrency }, loop)
  return { results, stop: async () => { running = false; await Promise.all(loops); return results } }
}

test('a respawned worker takes no connection before its readiness checks pass', async (t) => {
  const { admin, port } = await startCluster(t, { opts: { readyTimeout: 20_000 }, env: { FIXTURE_READY_DELAY: '2000' } })
  const load = probe(port)
  const victim = (await admin('/supervisor')).body.workers.find((w) => w.slot === 1)
  process.kill(victim.pid, 'SIGKILL')
  await waitFor(async () => {
    const w = (await admin('/supervisor')).body.workers.find((w) => w.slot === 1)
    return w && w.pid !== victim.pid && w.state === 'ready'
  }, { timeout: 20_000, message: 'the respawned worker to be ready' })
  await new Promise((resolve) => setTimeout(resolve, 300))
  const results = await load.stop()
  t.ok(results.ok > 20, `the load ran (${results.ok} answers)`)
  t.same(results.early, [], 'no answer from a worker whose readiness check still failed')
})

test('a rolling reload under load answers every request, never from an unready replacement', async (t) => {
  const { admin, port } = await startCluster(t, { opts: { readyTimeout: 20_000 }, env: { FIXTURE_READY_DELAY: '1500' } })
  const before = (await admin('/supervisor')).body.workers.map((w) => w.pid)
  const load = probe(port)
  const res = await admin('/reload', { method: 'POST' })
  const results = await load.stop()
  t.match(res.body, { ok: true, replaced: [0, 1] })
  const after = (await admin('/supervisor')).body.workers.map((w) => w.pid)
  t.equal(after.filter((p) => before.includes(p)).length, 0, 'every worker was replaced')
  t.ok(results.ok > 20, `the load ran (${results.ok} answers)`)
  t.equal(results.failed, 0, `no failed request (${results.errors.slice(0, 5).join(', ')})`)
  t.same(results.early, [], 'no answer from an unready replacement')
})

for (const scheduling of ['none', 'reuseport']) {
  test(`under scheduling '${scheduling}' a starting worker takes no connection before it is ready`, async (t) => {
    const { admin, port } = await startCluster(t, { opts: { scheduling, readyTimeout: 20_000 }, env: { FIXTURE_READY_DELAY: '1500' } })
    const load = probe(port)
    const res = await admin('/reload', { method: 'POST' })
    const results = await load.stop()
    t.match(res.body, { ok: true })
    t.ok(results.ok > 10, `the load ran (${results.ok} answers)`)
    t.same(results.early, [], 'no answer from an unready worker')
  })
}
