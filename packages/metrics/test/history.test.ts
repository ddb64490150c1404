// The dashboard's ring buffer and markers, driven with the real aggregator,
// real wire snapshots and a supervisor's events; no processes (the cluster
// and browser tests cover those).
import { test } from 'tap'
import { EventEmitter } from 'node:events'
import { Registry } from 'prom-client'
import corralMetrics from '@corral/metrics'
import Fastify from 'fastify'
import { MetricsAggregator } from '../dist/metrics-aggregator.js'
import { History, quantile } from '../dist/history.js'
import { encodeMetrics } from '../dist/snapshot.js'

function clock () {
  let now = 1_000_000
  return { now: () => now, advance: (ms) => { now += ms } }
}

/** A worker app whose snapshots we take by hand: real HTTP metrics, real process metrics. */
async function workerApp (t) {
  const app = Fastify()
  await app.register(corralMetrics, { buckets: [0.001, 0.01, 0.1] })
  app.get('/', async () => 'ok')
  app.get('/fail', async (request, reply) => reply.code(500).send('no'))
  t.teardown(() => app.close())
  return app
}

function record (slot, id, state = 'ready') {
  return { slot, id, pid: 5000 + id, state }
}

function setup (t, settings = {}) {
  const c = clock()
  // a stand-in for cluster-boot's supervisor: its events and its workers are all History reads
  const supervisor: any = new EventEmitter()
  const records: any[] = []
  supervisor.workers = () => records
  const aggregator = new MetricsAggregator({ perWorker: false, maxSeries: 10_000, now: c.now })
  const history = new History(supervisor, aggregator, { step: 1000, capacity: 900, now: c.now, ...settings })
  t.teardown(() => history.close())
  return { c, supervisor, records, aggregator, history }
}

test('a sample per worker and in total: rates, latency quantiles, memory, event loop', async (t) => {
  const { c, records, aggregator, history } = setup(t)
  const app = await workerApp(t)
  const w0 = record(0, 1)
  const w1 = record(1, 2)
  records.push(w0, w1, record(2, 3))
  aggregator.receive(await app.metrics.snapshot(), w0)
  aggregator.receive(await app.metrics.snapshot(), w1)
  c.advance(1000)
  history.sample()
  for (let i = 0; i < 10; i++) await app.inject('/')
  await app.inject('/fail')
  aggregator.receive(await app.metrics.snapshot(), w0)
  c.advance(2000)
  const s = history.sample()
  t.equal(s.workers[0].rps, 5.5, '11 requests in 2 s')
  t.equal(s.workers[0].errors, 0.5)
  t.equal(s.workers[1].rps, 0, 'the other worker answered none since')
  t.equal(s.workers[2], undefined, 'a worker without a snapshot yet is not drawn')
  t.ok(s.workers[0].p50! > 0 && s.workers[0].p50! <= 100, `p50 ${s.workers[0].p50} ms, within the buckets`)
  t.equal(s.workers[1].p50, null, 'no requests, no quantile')
  t.equal(s.total.rps, 5.5)
  t.equal(s.total.p99, s.workers[0].p99)
  t.ok(s.workers[0].rss! > 0 && s.workers[0].heap! > 0, 'memory from the snapshot')
  t.equal(s.total.rss, s.workers[0].rss! + s.workers[1].rss!, 'the machine\'s memory is the sum')
  t.ok(s.workers[0].elu! >= 0 && s.total.elu! >= 0)
  t.ok(s.total.lag >= s.workers[1].lag)

  records.splice(0, 1)
  c.advance(1000)
  t.same(Object.keys(history.sample().workers), ['1'], 'a worker gone is no longer drawn')
  t.equal(history.view().samples.length, 3)
  t.equal(history.view(s.t).samples.length, 1, 'only what came after `since`')
})

test('quantiles interpolate inside a bucket, like histogram_quantile', async (t) => {
  const b = (pairs: Array<[number, number]>) => new Map(pairs)
  t.ok(Math.abs(quantile(0.5, b([[0.001, 0], [0.01, 10], [Infinity, 10]]))! - 5.5) < 1e-9, 'halfway into the 1–10 ms bucket')
  t.equal(quantile(0.99, b([[0.001, 0], [0.01, 0], [Infinity, 4]])), 10, 'past the last bound: the last bound')
  t.equal(quantile(0.5, b([[0.001, 2], [0.01, 2], [Infinity, 2]])), 0.5)
  t.equal(quantile(0, b([[0.001, 0], [0.01, 0], [Infinity, 2]])), 1, 'an empty bucket at the rank')
  t.equal(quantile(0.5, b([[Infinity, 0]])), null)
})

test('the ring keeps the newest samples', async (t) => {
  const { c, history } = setup(t, { capacity: 3 })
  for (let i = 0; i < 5; i++) {
    c.advance(1000)
    history.sample()
  }
  const { samples, step } = history.view()
  t.equal(step, 1000)
  t.same(samples.map((s) => s.t), [1_003_000, 1_004_000, 1_005_000], 'oldest first')
})

test('markers for crashes, restarts, memory restarts, reloads and the crash-loop guard', async (t) => {
  const { supervisor, history } = setup(t)
  const old = record(0, 1)
  const next = record(0, 2)
  supervisor.emit('exit', old, { code: null, signal: 'SIGKILL', expected: false })
  supervisor.emit('exit', record(1, 3), { code: 3, signal: null, expected: false })
  supervisor.emit('exit', record(1, 4), { code: 0, signal: null, expected: true })
  supervisor.emit('restart', next, old, 'crash')
  supervisor.emit('restart', next, old, 'maxMemory')
  supervisor.emit('restart', next, old, 'reload')
  supervisor.emit('reload', { ok: true, replaced: [0, 1] })
  supervisor.emit('reload', { ok: false, replaced: [], failedSlot: 0 })
  supervisor.emit('crashloop', new Error('slot 1 crashed 5 times'))
  const view = history.view()
  t.same(view.markers.map((m) => [m.kind, m.slot, m.detail]), [
    ['crash', 0, 'killed by SIGKILL'],
    ['crash', 1, 'exited with code 3'],
    ['restart', 0, 'pid 5001 replaced by 5002'],
    ['memory', 0, 'pid 5001 replaced by 5002'],
    ['reload', null, 'slots 0, 1 replaced'],
    ['reload', null, 'stopped at slot 0'],
    ['crash', null, 'slot 1 crashed 5 times']
  ])
  t.same(Object.keys(view.lastErrors), ['0', '1'])
  t.equal(view.lastErrors[1].detail, 'exited with code 3', 'the last error of each slot')
  for (let i = 0; i < 600; i++) supervisor.emit('reload', { ok: true, replaced: [] })
  t.equal(history.view().markers.length, 500, 'markers are capped')
  history.close()
  supervisor.emit('reload', { ok: true, replaced: [] })
  t.equal(history.view().markers.at(-1)?.t, view.now, 'no listener left after close')
})

test('a worker whose pushes stop is marked unresponsive once, and again after it recovered', async (t) => {
  const { c, records, aggregator, history } = setup(t)
  const w = record(0, 1)
  const flagged = record(1, 2, 'unresponsive')
  records.push(w, flagged)
  const registry = new Registry()
  let seq = 0
  const push = (ref) => aggregator.receive({ v: 1, seq: ++seq, at: c.now(), requests: 0, errors: 0, inFlight: 0, truncated: 0, m: encodeMetrics([], 10).m }, ref)
  push(w)
  push(flagged)
  t.equal((await registry.getMetricsAsJSON()).length, 0)
  history.sample()
  c.advance(3500)
  history.sample()
  c.advance(1000)
  history.sample()
  const unresponsive = () => history.view().markers.filter((m) => m.kind === 'unresponsive').map((m) => m.slot)
  t.same(unresponsive(), [1, 0], 'cluster-boot said so for slot 1 at once; slot 0 after 3 s without a push, once')
  push(w)
  c.advance(1000)
  push(w)
  history.sample()
  c.advance(4000)
  history.sample()
  t.same(unresponsive(), [1, 0, 0], 'marked again after it pushed and stopped again')
})

test('a worker that pushes every 5 s is not unresponsive after 4 s, only after three of its intervals', async (t) => {
  const { c, records, aggregator, history } = setup(t)
  const w = record(0, 1)
  records.push(w)
  let seq = 0
  const push = () => aggregator.receive({ v: 1, seq: ++seq, at: c.now(), requests: 0, errors: 0, inFlight: 0, truncated: 0, m: [] }, w)
  push()
  c.advance(5000)
  push()
  c.advance(4000)
  history.sample()
  t.equal(history.view().markers.length, 0, 'not after 4 s')
  c.advance(11_500)
  history.sample()
  t.same(history.view().markers.map((m) => m.kind), ['unresponsive'], 'after 15 s')
})

test('a worker cannot hide by claiming a long push interval: the gap is timed by the primary', async (t) => {
  const { c, records, aggregator, history } = setup(t)
  const w = record(0, 1)
  records.push(w)
  let seq = 0
  // pushes 1 s apart that claim to be an hour apart
  const push = () => aggregator.receive({ v: 1, seq: ++seq, at: c.now() + seq * 3_600_000, requests: 0, errors: 0, inFlight: 0, truncated: 0, m: [] }, w)
  push()
  c.advance(1000)
  push()
  c.advance(4000)
  history.sample()
  t.same(history.view().markers.map((m) => m.kind), ['unresponsive'], 'silent after 4 s, as any worker that pushes every second')
})
