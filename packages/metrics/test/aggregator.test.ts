// The merge rules of the primary, driven with real prom-client registries and
// the real wire encoding; no processes (the cluster tests cover those).
import { test } from 'tap'
import Fastify from 'fastify'
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client'
import { metricsAggregator, type AggregatorOptions } from '@corral/metrics'
import { EventEmitter } from 'node:events'
import type { PrimaryBusApi, SupervisorState, SupervisorView } from '@corral/cluster-boot'
import { LATE_GRACE_MS, MetricsAggregator } from '../dist/metrics-aggregator.js'
import { render as renderTyped, type MetricJSON } from '../dist/exposition.js'
import { decodeSnapshot as decodeTyped, encodeMetrics as encodeTyped } from '../dist/snapshot.js'
import { sample, samples } from './fixtures/cluster.js'

// prom-client's JSON, hand-made rows and malformed wire data go in; either side of a decode is read
const render = (metrics: unknown, contentType: Parameters<typeof renderTyped>[1]) => renderTyped(metrics as MetricJSON[], contentType)
const decodeSnapshot = (raw: unknown, maxSeries: number, maxBytes?: number): any => decodeTyped(raw, maxSeries, maxBytes)
const encodeMetrics = (metrics: unknown[], budget: number) => encodeTyped(metrics as MetricJSON[], budget)

function workerRegistry ({ buckets = [0.1, 1] } = {}) {
  const registry = new Registry()
  const requests = new Counter({ name: 'req_total', help: 'Requests.', labelNames: ['route'], registers: [registry] })
  const inFlight = new Gauge({ name: 'in_flight', help: 'In flight.', registers: [registry] })
  const lag = new Gauge({ name: 'lag_p99', help: 'A percentile.', aggregator: 'average', registers: [registry] })
  const duration = new Histogram({ name: 'dur_seconds', help: 'Durations.', labelNames: ['route'], buckets, registers: [registry] })
  const size = new Summary({ name: 'size_bytes', help: 'Sizes.', percentiles: [0.5], registers: [registry] })
  // eslint-disable-next-line no-new
  new Gauge({ name: 'started_at', help: 'Omitted when merged.', aggregator: 'omit', registers: [registry], collect () { this.set(1) } })
  return { registry, requests, inFlight, lag, duration, size }
}

let seq = 0
async function snapshotOf (registry, extra = {}) {
  const { m, truncated } = encodeMetrics(await registry.getMetricsAsJSON(), 10_000)
  return { v: 1, seq: ++seq, at: Date.now(), requests: 0, errors: 0, inFlight: 0, truncated, m, ...extra }
}

const worker = (slot, id) => ({ slot, id, pid: 1000 + id, state: 'ready' })
const text = (aggregator) => render(aggregator.metrics(), 'text/plain; version=0.0.4; charset=utf-8')

function clock () {
  let now = 1_000_000
  return { now: () => now, advance: (ms) => { now += ms } }
}

test('the wire form turns back into what prom-client gave', async (t) => {
  const w = workerRegistry()
  w.requests.inc({ route: '/a' }, 3)
  w.requests.inc({ route: '/b' })
  w.inFlight.set(NaN)
  w.duration.observe({ route: '/a' }, 0.5)
  w.duration.observe({ route: '/b' }, 5)
  w.size.observe(10)
  const original = await w.registry.getMetricsAsJSON()
  const wire = JSON.parse(JSON.stringify(await snapshotOf(w.registry)))
  const result = decodeSnapshot(wire, 1000)
  t.equal(result.ok, true)
  const expected = await render(original, 'text/plain; version=0.0.4; charset=utf-8')
  t.equal(await render(result.snapshot.metrics, 'text/plain; version=0.0.4; charset=utf-8'), expected, 'the same exposition text, NaN included')
  t.ok(JSON.stringify(wire).length < JSON.stringify(original).length / 2, 'and less than half the size on the channel')
})

test('a malformed snapshot is rejected whole, with a reason', async (t) => {
  const w = workerRegistry()
  w.requests.inc({ route: '/a' })
  const good = await snapshotOf(w.registry)
  const counter = good.m.find((m) => m.n === 'req_total')
  const histogram = good.m.find((m) => m.n === 'dur_seconds')
  const variants = {
    'not an object': 'hello',
    null: null,
    'unknown version': { ...good, v: 2 },
    'bad header': { ...good, seq: -1 },
    'no metrics': { ...good, m: 'x' },
    'metric not an object': { ...good, m: [1] },
    'bad name': { ...good, m: [{ ...counter, n: 'no spaces allowed' }] },
    'bad type': { ...good, m: [{ ...counter, t: 'untyped' }] },
    'bad aggregator': { ...good, m: [{ ...counter, a: 'median' }] },
    'bad label names': { ...good, m: [{ ...counter, k: ['1abc'] }] },
    'rows missing': { ...good, m: [{ ...counter, r: undefined }] },
    'bad row': { ...good, m: [{ ...counter, r: [['x']] }] },
    'bad value': { ...good, m: [{ ...counter, r: [[['/a'], 'many']] }] },
    'bad label value': { ...good, m: [{ ...counter, r: [[[{}], 1]] }] },
    'wrong label count': { ...good, m: [{ ...counter, r: [[['/a', '/b'], 1]] }] },
    'bad bounds': { ...good, m: [{ ...histogram, b: ['x'] }] },
    'le as a label': { ...good, m: [{ ...histogram, k: ['le'] }] },
    'bad bucket row': { ...good, m: [{ ...histogram, r: [[[], [1], 1, 1]] }] },
    'bad bucket value': { ...good, m: [{ ...histogram, b: [1], r: [[[], ['x'], 1, 1]] }] },
    'row not an array': { ...good, m: [{ ...counter, r: ['x'] }] },
    'same metric twice': { ...good, m: [counter, counter] },
    'a reserved label name': { ...good, m: [{ ...counter, k: ['__proto__'] }] }
  }
  for (const [name, raw] of Object.entries(variants)) {
    const result = decodeSnapshot(raw, 1000)
    t.same({ ok: result.ok, reason: result.reason }, { ok: false, reason: 'malformed' }, name)
  }
  t.equal(decodeSnapshot(good, 3).reason, 'too_large', 'more series than the primary accepts')
  t.equal(decodeSnapshot(good, 0).reason, 'too_large', 'counted on counter rows too')
})

test('decoding is bounded in bytes, not only in rows', async (t) => {
  const w = workerRegistry()
  w.requests.inc({ route: '/' + 'x'.repeat(100_000) })
  const one = await snapshotOf(w.registry)
  t.equal(decodeSnapshot(one, 1000).ok, true, 'a few rows fit the series budget')
  const big = decodeSnapshot(one, 1000, 50_000)
  t.same({ ok: big.ok, reason: big.reason, detail: big.detail }, { ok: false, reason: 'too_large', detail: 'more than 50000 bytes' }, 'one huge label value does not')
  const w2 = workerRegistry()
  w2.duration.observe({ route: '/a' }, 0.5)
  const histogram = (await snapshotOf(w2.registry)).m.filter((m) => m.n === 'dur_seconds')
  t.equal(decodeSnapshot({ ...one, m: histogram }, 1000, 200).reason, 'too_large', 'histogram rows weigh too')
  t.equal(decodeSnapshot({ ...one, m: histogram }, 1000, 10_000).ok, true)
})

test('metric families named like Object.prototype members do not break the output', async (t) => {
  const agg = new MetricsAggregator({ perWorker: false, maxSeries: 10_000 })
  const hostile = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'].map((n, i) => ({ n, h: 'x', t: i === 0 ? 'counter' : 'gauge', a: 'sum', k: [], r: [[[], i + 1]] }))
  const w = workerRegistry()
  w.requests.inc({ route: '/a' })
  const good = await snapshotOf(w.registry)
  agg.receive({ ...good, m: [...good.m, ...hostile] }, worker(0, 1))
  agg.receive(await snapshotOf(w.registry, { m: hostile }), worker(1, 2))
  const out = await text(agg)
  t.equal(sample(out, 'constructor'), 2)
  t.equal(sample(out, '__proto__'), 4)
  t.equal(sample(out, 'toString'), 6)
  t.equal(sample(out, 'valueOf'), 10)
  t.equal(sample(out, 'req_total', { route: '/a' }), 1, 'the other families are all there')
  const open = await render(agg.metrics(), 'application/openmetrics-text; version=1.0.0; charset=utf-8')
  t.match(open, /^constructor_total 2$/m, 'and in OpenMetrics')
})

test('a slot\'s retired series are capped: old series keep adding up, new ones are left out and counted', async (t) => {
  const c = clock()
  const agg = new MetricsAggregator({ perWorker: false, maxSeries: 8, now: c.now })
  let id = 0
  const dieWith = async (routes, families = ['req_total']) => {
    const w = workerRegistry()
    for (const route of routes) w.requests.inc({ route })
    w.duration.observe({ route: '/a' }, 0.5)
    const snap = await snapshotOf(w.registry)
    const ref = worker(0, ++id)
    agg.receive({ ...snap, m: snap.m.filter((m) => families.includes(m.n)) }, ref)
    ref.state = 'exited'
    agg.exited(ref)
    c.advance(LATE_GRACE_MS)
    return text(agg)
  }
  await dieWith(['/a', '/b', '/c', '/d', '/e'])
  let out = await dieWith(['/a', '/f', '/g'])
  t.equal(sample(out, 'req_total', { route: '/f' }), 1, 'within the cap, new series join')
  out = await dieWith(['/a', '/b', '/x', '/y'])
  t.equal(sample(out, 'req_total', { route: '/a' }), 3, 'known series keep adding up')
  t.equal(sample(out, 'req_total', { route: '/b' }), 2)
  t.equal(sample(out, 'req_total', { route: '/x' }), undefined, 'new ones past the cap are left out')
  t.equal(agg.retiredDropped, 2, 'and counted')
  out = await dieWith(['/a', '/z'], ['req_total', 'dur_seconds'])
  t.equal(sample(out, 'req_total', { route: '/a' }), 4)
  t.equal(sample(out, 'dur_seconds_count', { route: '/a' }), undefined, 'a new family past the cap is left out whole')
  t.equal(agg.retiredDropped, 2 + 1 + 5)
})

test('missing label values and infinite numbers survive the wire', async (t) => {
  const registry = new Registry()
  const jobs = new Counter({ name: 'jobs_total', help: 'Jobs.', labelNames: ['kind', 'queue'], registers: [registry] })
  jobs.inc({ kind: 'mail' }, 2)
  jobs.inc({ kind: 'mail', queue: 'fast' })
  const bounds = new Gauge({ name: 'bounds', help: 'Limits.', labelNames: ['side'], registers: [registry] })
  bounds.set({ side: 'high' }, Infinity)
  bounds.set({ side: 'low' }, -Infinity)
  const original = await registry.getMetricsAsJSON()
  const wire = JSON.parse(JSON.stringify(await snapshotOf(registry)))
  t.same(wire.m[0].r[0][0], ['mail', null], 'a label the sample lacks travels as null')
  const result = decodeSnapshot(wire, 1000)
  t.equal(result.ok, true)
  const prom = 'text/plain; version=0.0.4; charset=utf-8'
  t.equal(await render(result.snapshot.metrics, prom), await render(original, prom))
})

test('a metric without an aggregator is summed; histogram rows past the budget are left out whole', async (t) => {
  const bare = { name: 'bare_total', help: 'Registered by hand.', type: 'counter', values: [{ value: 1, labels: {} }] }
  t.equal(encodeMetrics([bare], 10).m[0].a, 'sum')

  const w = workerRegistry()
  w.duration.observe({ route: '/a' }, 0.5)
  w.duration.observe({ route: '/b' }, 0.5)
  const histogram = (await w.registry.getMetricsAsJSON()).find((m) => m.name === 'dur_seconds')
  // a row is 3 buckets (0.1, 1, +Inf), the sum and the count: 5 series
  const { m, series, truncated } = encodeMetrics([histogram], 7)
  t.equal(m[0].r.length, 1, 'one row fits')
  t.equal(series, 5)
  t.equal(truncated, 5, 'the other row counted as left out')
})

test('counters and histograms are summed, gauges per their aggregator, quantiles kept per worker', async (t) => {
  const agg = new MetricsAggregator({ perWorker: false, maxSeries: 10_000 })
  const a = workerRegistry()
  const b = workerRegistry()
  a.requests.inc({ route: '/x' }, 2)
  b.requests.inc({ route: '/x' }, 5)
  a.inFlight.set(1)
  b.inFlight.set(2)
  a.lag.set(0.01)
  b.lag.set(0.5)
  a.duration.observe({ route: '/x' }, 0.05)
  b.duration.observe({ route: '/x' }, 0.5)
  a.size.observe(1)
  b.size.observe(2)
  agg.receive(await snapshotOf(a.registry), worker(0, 1))
  agg.receive(await snapshotOf(b.registry), worker(1, 2))
  const out = await text(agg)
  t.equal(sample(out, 'req_total', { route: '/x' }), 7)
  t.equal(sample(out, 'in_flight'), 3)
  t.equal(sample(out, 'dur_seconds_bucket', { route: '/x', le: 0.1 }), 1)
  t.equal(sample(out, 'dur_seconds_bucket', { route: '/x', le: 1 }), 2)
  t.same(samples(out, 'lag_p99').map((s) => s.labels.worker).sort(), ['0', '1'], 'an averaged percentile is per worker')
  t.same(samples(out, 'size_bytes').filter((s) => s.labels.quantile === '0.5').map((s) => s.value).sort(), [1, 2], 'summary quantiles per worker')
  t.notMatch(out, /started_at/, "the 'omit' aggregator leaves a metric out")
  t.equal(agg.series() > 0, true)
})

test('a dead worker keeps its counts; a late last snapshot replaces, not adds; then it is folded into its slot', async (t) => {
  const c = clock()
  const agg = new MetricsAggregator({ perWorker: false, maxSeries: 10_000, now: c.now })
  const first = worker(0, 1)
  const w = workerRegistry()
  w.requests.inc({ route: '/x' }, 4)
  w.inFlight.set(9)
  agg.receive(await snapshotOf(w.registry, { requests: 4 }), first)
  first.state = 'exited'
  agg.exited(first)
  agg.exited(first)
  let out = await text(agg)
  t.equal(sample(out, 'req_total', { route: '/x' }), 4, 'counts kept')
  t.equal(sample(out, 'in_flight'), undefined, 'gauges of a dead worker are gone')

  w.requests.inc({ route: '/x' }, 2)
  agg.receive(await snapshotOf(w.registry, { requests: 6 }), first)
  t.equal(sample(await text(agg), 'req_total', { route: '/x' }), 6, 'the message read after the exit replaced the one before')

  const next = worker(0, 2)
  const fresh = workerRegistry()
  fresh.requests.inc({ route: '/x' }, 1)
  agg.receive(await snapshotOf(fresh.registry, { requests: 1 }), next)
  c.advance(LATE_GRACE_MS)
  out = await text(agg)
  t.equal(sample(out, 'req_total', { route: '/x' }), 7, 'folded: 6 of the dead + 1 of its replacement')
  t.same(agg.totals(), { requests: 7, errors: 0 })
  agg.receive(await snapshotOf(w.registry), first)
  t.equal(agg.dropped.late, 1, 'a message after the fold is dropped')

  // a second death in the slot adds to what the slot already retired
  next.state = 'exited'
  agg.exited(next)
  c.advance(LATE_GRACE_MS)
  t.equal(sample(await text(agg), 'req_total', { route: '/x' }), 7)
})

test('an older snapshot than the one held is dropped', async (t) => {
  const agg = new MetricsAggregator({ perWorker: false, maxSeries: 10_000 })
  const w = workerRegistry()
  w.requests.inc({ route: '/x' }, 1)
  const older = await snapshotOf(w.registry)
  w.requests.inc({ route: '/x' }, 1)
  const newer = await snapshotOf(w.registry)
  const ref = worker(0, 1)
  agg.receive(newer, ref)
  agg.receive(older, ref)
  t.equal(agg.dropped.stale, 1)
  t.equal(sample(await text(agg), 'req_total', { route: '/x' }), 2)
  t.equal(agg.latest(ref)?.snapshot.seq, newer.seq)
})

test('histograms with other buckets are not summed; the newest worker decides the buckets', async (t) => {
  const c = clock()
  const agg = new MetricsAggregator({ perWorker: false, maxSeries: 10_000, now: c.now })
  const old = workerRegistry({ buckets: [0.1, 1] })
  old.duration.observe({ route: '/x' }, 0.5)
  const deployed = workerRegistry({ buckets: [0.2, 2] })
  deployed.duration.observe({ route: '/x' }, 0.5)
  const oldRef = worker(0, 1)
  agg.receive(await snapshotOf(old.registry), oldRef)
  agg.receive(await snapshotOf(deployed.registry), worker(1, 2))
  let out = await text(agg)
  t.equal(sample(out, 'dur_seconds_bucket', { route: '/x', le: 2 }), 1, 'the newest buckets, merged')
  t.equal(sample(out, 'dur_seconds_bucket', { route: '/x', le: 1, worker: 0 }), 1, 'the older worker keeps its own series')

  // a new worker with nothing observed yet says nothing about buckets
  agg.receive(await snapshotOf(workerRegistry({ buckets: [5] }).registry), worker(2, 3))
  out = await text(agg)
  t.equal(sample(out, 'dur_seconds_bucket', { route: '/x', le: 2 }), 1)

  oldRef.state = 'exited'
  agg.exited(oldRef)
  c.advance(LATE_GRACE_MS)
  out = await text(agg)
  t.equal(sample(out, 'dur_seconds_bucket', { route: '/x', le: 1, worker: 0 }), undefined, 'a dead worker with other buckets leaves the histogram')
  t.equal(sample(out, 'req_total', { route: '/x' }), undefined)
})

test('a slot\'s retired histograms add up while their buckets match and restart when they change', async (t) => {
  const c = clock()
  const agg = new MetricsAggregator({ perWorker: false, maxSeries: 10_000, now: c.now })
  let id = 0
  const die = async (w) => {
    const ref = worker(0, ++id)
    agg.receive(await snapshotOf(w.registry), ref)
    ref.state = 'exited'
    agg.exited(ref)
    c.advance(LATE_GRACE_MS)
  }
  const observed = (buckets) => {
    const w = workerRegistry({ buckets })
    w.duration.observe({ route: '/x' }, 0.5)
    return w
  }
  const count = async () => sample(await text(agg), 'dur_seconds_count', { route: '/x' })
  await die(observed([0.1, 1]))
  await die(observed([0.1, 1]))
  t.equal(await count(), 2, 'same buckets: summed')
  await die(workerRegistry({ buckets: [0.1, 1] }))
  t.equal(await count(), 2, 'a worker that observed nothing changes nothing')
  await die(observed([0.2, 2]))
  const out = await text(agg)
  t.equal(await count(), 1, 'other buckets: the slot restarts from the newest dead worker')
  t.equal(sample(out, 'dur_seconds_bucket', { route: '/x', le: 2 }), 1)
  t.equal(sample(out, 'dur_seconds_bucket', { route: '/x', le: 1 }), undefined)
})

test('a metric whose type changed follows the newest worker', async (t) => {
  const agg = new MetricsAggregator({ perWorker: false, maxSeries: 10_000 })
  const a = new Registry()
  new Counter({ name: 'thing', help: 'x', registers: [a] }).inc(3)
  const b = new Registry()
  new Gauge({ name: 'thing', help: 'x', registers: [b] }).set(5)
  agg.receive(await snapshotOf(a), worker(0, 1))
  agg.receive(await snapshotOf(b), worker(1, 2))
  const out = await text(agg)
  t.match(out, /# TYPE thing gauge/)
  t.equal(sample(out, 'thing'), 5)
})

test('perWorker labels retired counts with their slot too', async (t) => {
  const c = clock()
  const agg = new MetricsAggregator({ perWorker: true, maxSeries: 10_000, now: c.now })
  const dead = worker(1, 1)
  const w = workerRegistry()
  w.requests.inc({ route: '/x' }, 3)
  agg.receive(await snapshotOf(w.registry), dead)
  dead.state = 'exited'
  agg.exited(dead)
  const live = workerRegistry()
  live.requests.inc({ route: '/x' }, 2)
  agg.receive(await snapshotOf(live.registry), worker(1, 2))
  c.advance(LATE_GRACE_MS)
  const out = await text(agg)
  t.equal(sample(out, 'req_total', { route: '/x', worker: 1 }), 5, 'one monotonic series per slot')
})

test('the aggregator checks its options and needs the cluster-boot admin instance', async (t) => {
  // wrong on purpose
  const cases: Array<[any, string]> = [
    [{ endpoint: 'metrics' }, 'endpoint'],
    [{ perWorker: 1 }, 'perWorker'],
    [{ primaryMetrics: 'corral_primary_' }, 'primaryMetrics'],
    [{ maxSeries: 0 }, 'maxSeries'],
    [{ workersEndpoint: false }, 'dashboard'],
    [{ health: 'health' }, 'health'],
    [[], 'options']
  ]
  for (const [opts, name] of cases) {
    const admin = Fastify()
    // options are checked before the supervisor is used
    admin.decorate('supervisor', idleSupervisor())
    admin.register(metricsAggregator, opts)
    await t.rejects(async () => await admin.ready(), { code: 'CORRAL_METRICS_INVALID_OPTION', message: new RegExp(`"${name}"`) }, JSON.stringify(opts))
  }
  const plain = Fastify()
  plain.register(metricsAggregator)
  await t.rejects(async () => await plain.ready(), { code: 'FST_ERR_PLUGIN_NOT_PRESENT_IN_INSTANCE', message: /'supervisor' required by '@corral\/metrics-aggregator'/ })
})

/**
 * What cluster-boot's supervisor shows the admin instance (its SupervisorView)
 * before any worker started: no workers, no slots, its counters; nothing to
 * reload, stop or send to.
 */
function idleSupervisor (): SupervisorView & { counts: Omit<SupervisorState, 'workers' | 'slots'> } {
  const counts = { restarts: 0, reloads: 0, memoryRestarts: 0, hangRestarts: 0, crashLoop: false, stopping: false }
  const events = new EventEmitter()
  const bus: PrimaryBusApi = {
    stats: { received: 0, sent: 0, malformed: 0, unknown: 0, handlerErrors: 0 },
    on: () => () => {},
    handle: () => {},
    send: () => false,
    broadcast: () => 0,
    request: async () => { throw new Error('no workers') }
  }
  return {
    counts,
    stopping: false,
    bus,
    workers: () => [],
    slotStates: () => [],
    state: () => ({ workers: [], slots: [], ...counts }),
    reload: async () => ({ ok: true, replaced: [] }),
    stop: async () => {},
    on (event, fn) { events.on(event, fn); return this },
    once (event, fn) { events.once(event, fn); return this },
    off (event, fn) { events.off(event, fn); return this }
  }
}

test('the supervisor\'s state is in the primary\'s metrics, the crash-loop flag included', async (t) => {
  const supervisor = idleSupervisor()
  const admin = Fastify()
  admin.decorate('supervisor', supervisor)
  await admin.register(metricsAggregator, { primaryMetrics: false })
  t.teardown(() => admin.close())
  let out = (await admin.inject('/metrics')).body
  t.equal(sample(out, 'corral_crash_loop'), 0)
  t.equal(sample(out, 'corral_workers_alive'), 0)
  t.equal(sample(out, 'corral_slots_backoff'), 0)
  t.equal(sample(out, 'corral_workers_unresponsive'), 0)
  t.equal(sample(out, 'corral_hang_restarts_total'), 0)
  supervisor.counts.crashLoop = true
  supervisor.counts.hangRestarts = 2
  out = (await admin.inject('/metrics')).body
  t.equal(sample(out, 'corral_crash_loop'), 1, 'the guard gave up forking')
  t.equal(sample(out, 'corral_hang_restarts_total'), 2, 'hung workers replaced')
  t.notMatch(out, /worker="primary"/, 'primaryMetrics: false leaves the primary\'s process metrics out')
})

test('the dashboard shows the machine\'s readiness from @corral/health\'s route, unless told not to', async (t) => {
  const cases: Array<[AggregatorOptions, string]> = [[{}, 'const HEALTH = "/health"'], [{ health: '/ready' }, 'const HEALTH = "/ready"'], [{ health: false }, 'const HEALTH = null']]
  for (const [opts, expected] of cases) {
    const admin = Fastify()
    admin.decorate('supervisor', idleSupervisor())
    await admin.register(metricsAggregator, { primaryMetrics: false, ...opts })
    t.teardown(() => admin.close())
    t.match((await admin.inject('/dashboard')).body, expected, JSON.stringify(opts))
  }
})

test('the embedded store\'s entries, bytes and evictions are exposed when @corral/redis-session hosts one on the admin instance', async (t) => {
  const admin = Fastify()
  admin.decorate('supervisor', idleSupervisor())
  await admin.register(metricsAggregator, { primaryMetrics: false })
  t.teardown(() => admin.close())
  // decorated after the aggregator is registered, as the example app orders them: read at scrape time
  const sessions = { size: 3, bytes: 900, evictions: 0 }
  admin.decorate('embeddedStore', { sessions, cache: { size: 1, bytes: 50, evictions: 2 } })
  let out = (await admin.inject('/metrics')).body
  t.equal(sample(out, 'corral_embedded_store_entries', { kind: 'sessions' }), 3)
  t.equal(sample(out, 'corral_embedded_store_bytes', { kind: 'cache' }), 50)
  t.equal(sample(out, 'corral_embedded_store_evictions_total', { kind: 'cache' }), 2)
  sessions.evictions = 5
  out = (await admin.inject('/metrics')).body
  t.equal(sample(out, 'corral_embedded_store_evictions_total', { kind: 'sessions' }), 5, 'evicted sessions: users logged out')
})

test('without an embedded store there are no embedded-store series', async (t) => {
  const admin = Fastify()
  admin.decorate('supervisor', idleSupervisor())
  await admin.register(metricsAggregator, { primaryMetrics: false })
  t.teardown(() => admin.close())
  t.notMatch((await admin.inject('/metrics')).body, /corral_embedded_store_entries\{/)
})

test('an embedded store with one part only exposes that part', async (t) => {
  const admin = Fastify()
  admin.decorate('supervisor', idleSupervisor())
  admin.decorate('embeddedStore', { sessions: { size: 1, bytes: 10, evictions: 0 } })
  await admin.register(metricsAggregator, { primaryMetrics: false })
  t.teardown(() => admin.close())
  const out = (await admin.inject('/metrics')).body
  t.equal(sample(out, 'corral_embedded_store_entries', { kind: 'sessions' }), 1)
  t.notMatch(out, /kind="cache"/)
})
