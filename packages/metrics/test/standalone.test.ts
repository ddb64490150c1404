import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'tap'
import Fastify from 'fastify'
import { Gauge, Registry } from 'prom-client'
import corralMetrics, { type MetricsOptions } from '@corral/metrics'
import { deprecationWarnings, sleep } from '@corral/test-helpers'
import { sample } from './fixtures/cluster.js'

async function build (t, opts: MetricsOptions = {}, routes = (app) => {}) {
  const app = Fastify()
  await app.register(corralMetrics, opts)
  app.get<{ Params: { id: string } }>('/users/:id', async (request) => ({ id: request.params.id }))
  app.get('/fail', async (request, reply) => reply.code(503).send({ no: true }))
  app.get('/health', async () => ({ ok: true }))
  app.get('/slow', async () => {
    await sleep(300)
    return { slow: true }
  })
  routes(app)
  t.teardown(() => app.close())
  await app.ready()
  return app
}

const scrape = async (app, headers?: Record<string, string>) => (await app.inject({ url: '/metrics', headers })).body

test('outside a worker the app serves /metrics itself, in Prometheus text', async (t) => {
  const app = await build(t)
  t.equal(app.metrics.clustered, false)
  const res = await app.inject('/metrics')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_utilization_ratio', 'http_requests_in_flight']) {
    t.match(res.body, new RegExp(`\\n${name}(\\{| )`), name)
  }
  t.match(res.body, /# TYPE nodejs_gc_duration_seconds histogram/)
  t.equal(await app.metrics.push(), false, 'nothing to push to')
})

test('requests are counted by method, route pattern and status code', async (t) => {
  const app = await build(t)
  for (let i = 0; i < 3; i++) await app.inject(`/users/${i}`)
  await app.inject('/fail')
  await app.inject('/nowhere/at/all')
  await app.inject({ method: 'POST', url: '/users/1' })
  const text = await scrape(app)
  t.equal(sample(text, 'http_requests_total', { method: 'GET', route: '/users/:id', status_code: 200 }), 3)
  t.equal(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/users/:id', status_code: 200 }), 3)
  t.equal(sample(text, 'http_requests_total', { method: 'GET', route: '/fail', status_code: 503 }), 1)
  t.equal(sample(text, 'http_requests_total', { method: 'GET', route: 'unmatched', status_code: 404 }), 1)
  t.equal(sample(text, 'http_requests_total', { method: 'POST', route: 'unmatched', status_code: 404 }), 1)
  t.notMatch(text, /route="\/users\/\d/, 'never the raw URL')
  t.notMatch(text, /route="\/metrics"/, 'the metrics endpoint itself is not measured')
  const snapshot = await app.metrics.snapshot()
  t.equal(snapshot.requests, 6)
  t.equal(snapshot.errors, 1, '5xx counted as errors')
})

test('routes can be excluded by pattern or by a predicate; unmatched routes get the label asked for', async (t) => {
  const app = await build(t, {
    exclude: (request) => request.headers['x-probe'] === '1',
    unmatchedRoute: '#none'
  })
  await app.inject('/health')
  await app.inject({ url: '/users/1', headers: { 'x-probe': '1' } })
  await app.inject('/nope')
  const text = await scrape(app)
  t.equal(sample(text, 'http_requests_total', { method: 'GET', route: '/health', status_code: 200 }), 1)
  t.equal(sample(text, 'http_requests_total', { method: 'GET', route: '/users/:id', status_code: 200 }), undefined, 'excluded by the predicate')
  t.equal(sample(text, 'http_requests_total', { method: 'GET', route: '#none', status_code: 404 }), 1)

  const listed = await build(t, { exclude: ['/health'], endpoint: '/prom' })
  await listed.inject('/health')
  await listed.inject('/prom')
  const listedText = (await listed.inject('/prom')).body
  t.notMatch(listedText, /route="\/health"/, 'excluded by pattern')
  t.notMatch(listedText, /route="\/prom"/, 'the endpoint is excluded wherever it is')
})

test('the route label is the full pattern wherever the route was added: before the plugin, under a prefix, with hooks of its own', async (t) => {
  const app = Fastify()
  app.get('/early', async () => 'added before the plugin')
  await app.register(corralMetrics, { exclude: ['/v1/skip'] })
  await app.register(async (v1) => {
    v1.get('/users/:id', { onRequest: async () => {} }, async () => 'x')
    v1.get('/skip', async () => 'y')
  }, { prefix: '/v1' })
  app.get('/', { onRequest: [(request, reply, done) => done()] }, async () => 'root')
  t.teardown(() => app.close())
  for (const url of ['/early', '/v1/users/1', '/v1/skip', '/']) await app.inject(url)
  await app.inject({ method: 'HEAD', url: '/v1/users/2' })
  const text = await scrape(app)
  t.equal(sample(text, 'http_requests_total', { method: 'GET', route: '/early', status_code: 200 }), 1)
  t.equal(sample(text, 'http_requests_total', { method: 'GET', route: '/v1/users/:id', status_code: 200 }), 1)
  t.equal(sample(text, 'http_requests_total', { method: 'HEAD', route: '/v1/users/:id', status_code: 200 }), 1)
  t.equal(sample(text, 'http_requests_total', { method: 'GET', route: '/', status_code: 200 }), 1)
  t.notMatch(text, /route="\/v1\/skip"/, 'excluded by its full pattern')
})

test('the in-flight gauge follows requests, including those the client abandons', async (t) => {
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const pending = app.inject('/slow')
  await sleep(50)
  t.equal(sample(await scrape(app), 'http_requests_in_flight'), 2, 'the slow request and the scrape itself')
  await pending

  const req = http.get({ host: '127.0.0.1', port, path: '/slow', agent: false }).on('error', () => {})
  await sleep(100)
  req.destroy()
  await sleep(400)
  t.equal(sample(await scrape(app), 'http_requests_in_flight'), 1, 'the abandoned request left')
})

test('OpenMetrics on request, and a later Prometheus scrape or push is unharmed', async (t) => {
  const app = await build(t)
  await app.inject('/users/1')
  const res = await app.inject({ url: '/metrics', headers: { accept: 'application/openmetrics-text; version=1.0.0' } })
  t.equal(res.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8')
  t.match(res.body, /# TYPE http_requests counter\nhttp_requests_total\{/)
  t.match(res.body, /# EOF\n$/)
  const text = await scrape(app)
  t.match(text, /# TYPE http_requests_total counter\nhttp_requests_total\{/, 'prom-client renames counters in place when it formats OpenMetrics; we do not let it')
  const snapshot = await app.metrics.snapshot()
  t.ok(snapshot.m.some((m) => m.n === 'http_requests_total'), 'the snapshot keeps the real name')
})

test('content negotiation picks the media type with the higher q', async (t) => {
  const prom = 'text/plain; version=0.0.4; charset=utf-8'
  const om = 'application/openmetrics-text; version=1.0.0; charset=utf-8'
  const app = await build(t)
  const negotiate = async (accept) => (await app.inject({ url: '/metrics', headers: accept === undefined ? {} : { accept } })).headers['content-type']
  t.equal(await negotiate(undefined), prom)
  t.equal(await negotiate('*/*'), prom)
  t.equal(await negotiate('application/openmetrics-text'), om)
  t.equal(await negotiate('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'), om, 'what Prometheus sends')
  t.equal(await negotiate('text/plain, application/openmetrics-text;q=0.5'), prom)
  t.equal(await negotiate('application/openmetrics-text;q=0'), prom)
  t.equal(await negotiate('text/*;q=0.2, application/openmetrics-text;q=0.3'), om)
})

test('fastify.metrics creates custom metrics in the registry', async (t) => {
  const app = await build(t)
  const jobs = app.metrics.counter({ name: 'jobs_total', help: 'Jobs.', labelNames: ['kind'] })
  jobs.inc({ kind: 'mail' }, 2)
  t.equal(app.metrics.counter({ name: 'jobs_total', help: 'Jobs.' }), jobs, 'asking again returns the same counter')
  app.metrics.gauge({ name: 'queue_depth', help: 'Queue.' }).set(7)
  app.metrics.histogram({ name: 'job_seconds', help: 'Job time.', buckets: [1, 2] }).observe(1.5)
  app.metrics.summary({ name: 'job_size', help: 'Job size.' }).observe(3)
  t.throws(() => app.metrics.gauge({ name: 'jobs_total', help: 'x' }), { code: 'CORRAL_METRICS_CONFLICT', message: /jobs_total.*counter/ })
  const text = await scrape(app)
  t.equal(sample(text, 'jobs_total', { kind: 'mail' }), 2)
  t.equal(sample(text, 'queue_depth'), 7)
  t.equal(sample(text, 'job_seconds_bucket', { le: 2 }), 1)
  t.equal(sample(text, 'job_size_count'), 1)
  t.equal((await app.metrics.registry.getSingleMetric('queue_depth')?.get())?.name, 'queue_depth', 'the registry is exposed')
})

test('a name taken by a metric registered by hand, without a type, is a conflict too', async (t) => {
  const app = await build(t)
  // @ts-expect-error registered by hand without a type, on purpose
  app.metrics.registry.registerMetric({ name: 'by_hand', help: 'x', get: async () => ({ name: 'by_hand', help: 'x', values: [] }) })
  t.throws(() => app.metrics.counter({ name: 'by_hand', help: 'x' }), { code: 'CORRAL_METRICS_CONFLICT', message: /by_hand.*other metric/ })
})

test('a meter reports a rate of events per unit over its timeframe', async (t) => {
  const app = await build(t)
  const meter = app.metrics.meter({ name: 'orders_rate', help: 'Orders per second.', timeframe: 2 })
  for (let i = 0; i < 20; i++) meter.mark()
  meter.mark(10)
  await sleep(1000)
  const rate = meter.rate()
  t.ok(rate > 10 && rate < 40, `30 events over about a second (${rate}/s)`)
  t.equal(sample(await scrape(app), 'orders_rate') > 0, true, 'exposed as a gauge')
  await sleep(2100)
  t.equal(meter.rate(), 0, 'events older than the timeframe no longer count')
  const perMinute = app.metrics.meter({ name: 'orders_per_minute', help: 'x', unit: 60 })
  perMinute.mark(3)
  t.ok(perMinute.rate() > 100, 'unit: 60 gives a rate per minute')
  t.throws(() => app.metrics.meter({ name: 'orders_rate', help: 'x' }), { code: 'CORRAL_METRICS_CONFLICT' })
  t.throws(() => app.metrics.meter({ name: 'bad_rate', help: 'x', timeframe: 0 }), { code: 'CORRAL_METRICS_INVALID_OPTION', message: /meter\.timeframe/ })
})

test('HTTP and process metrics can be left out, the endpoint too, and a registry of your own used', async (t) => {
  const registry = new Registry()
  const app = await build(t, { httpMetrics: false, defaultMetrics: false, registry })
  await app.inject('/users/1')
  t.equal(app.metrics.registry, registry)
  t.equal(await scrape(app), '\n', 'nothing registered, nothing served')

  const bare = await build(t, { endpoint: false, defaultMetrics: { prefix: 'app_', eventLoopMonitoringPrecision: 20 } })
  t.equal((await bare.inject('/metrics')).statusCode, 404)
  const json = await bare.metrics.registry.getMetricsAsJSON()
  t.ok(json.some((m) => m.name === 'app_process_cpu_seconds_total'), 'prefixed default metrics')
  t.ok(json.some((m) => m.name === 'app_nodejs_eventloop_utilization_ratio'))
})

test('custom buckets for the request duration histogram', async (t) => {
  const app = await build(t, { buckets: [0.1, 1] })
  await app.inject('/users/1')
  const text = await scrape(app)
  t.equal(sample(text, 'http_request_duration_seconds_bucket', { method: 'GET', route: '/users/:id', status_code: 200, le: 0.1 }), 1)
  t.notMatch(text, /le="0.005"/)
})

test('a snapshot keeps at most maxSeries series and warns once', async (t) => {
  const warnings: any[] = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line) => warnings.push(JSON.parse(line)) } } })
  await app.register(corralMetrics, { maxSeries: 60, defaultMetrics: false })
  app.get('/r/:n', async () => 'ok')
  t.teardown(() => app.close())
  const many = app.metrics.gauge({ name: 'many', help: 'x', labelNames: ['n'] })
  for (let i = 0; i < 100; i++) many.set({ n: String(i) }, i)
  const first = await app.metrics.snapshot()
  const second = await app.metrics.snapshot()
  const kept = first.m.reduce((n, m) => n + m.r.length, 0)
  t.ok(kept <= 60, `${kept} rows kept`)
  t.ok(first.truncated >= 40, `${first.truncated} series left out`)
  t.equal(second.seq, first.seq + 1, 'snapshots are numbered')
  t.equal(warnings.filter((w) => /maxSeries/.test(w.msg)).length, 1, 'one warning, not one per push')
})

test('options are checked once, and a bad one is named', async (t) => {
  // wrong on purpose
  const bad: Array<[any, string]> = [
    [{ pushInterval: 0 }, 'pushInterval'],
    [{ pushInterval: '1s' }, 'pushInterval'],
    [{ interval: 5, pushInterval: 5 }, 'interval'],
    [{ endpoint: 'metrics' }, 'endpoint'],
    [{ endpoint: true }, 'endpoint'],
    [{ defaultMetrics: 'yes' }, 'defaultMetrics'],
    [{ defaultMetrics: { prefix: '1x' } }, 'defaultMetrics.prefix'],
    [{ defaultMetrics: { gcDurationBuckets: [2, 1] } }, 'defaultMetrics.gcDurationBuckets'],
    [{ defaultMetrics: { eventLoopMonitoringPrecision: 0 } }, 'defaultMetrics.eventLoopMonitoringPrecision'],
    [{ httpMetrics: 'no' }, 'httpMetrics'],
    [{ exclude: '/health' }, 'exclude'],
    [{ exclude: [1] }, 'exclude'],
    [{ buckets: [] }, 'buckets'],
    [{ buckets: [1, Infinity] }, 'buckets'],
    [{ unmatchedRoute: '' }, 'unmatchedRoute'],
    [{ maxSeries: -1 }, 'maxSeries'],
    [{ registry: {} }, 'registry']
  ]
  for (const [opts, name] of bad) {
    const app = Fastify()
    app.register(corralMetrics, opts)
    await t.rejects(async () => await app.ready(), { code: 'CORRAL_METRICS_INVALID_OPTION', message: new RegExp(`"${name.replace('.', '\\.')}"`) }, JSON.stringify(opts))
  }
  const app = Fastify()
  // @ts-expect-error wrong on purpose
  app.register(corralMetrics, 'nope')
  await t.rejects(async () => await app.ready(), { code: 'CORRAL_METRICS_INVALID_OPTION', message: /"options"/ })
})

test('the old name interval still sets the push interval, with one deprecation warning', async (t) => {
  const warnings = deprecationWarnings(t)
  for (let i = 0; i < 2; i++) {
    const app = Fastify()
    await app.register(corralMetrics, { interval: 500 })
    await app.ready()
    await app.close()
  }
  t.same(await warnings.settled(), ['@corral/metrics: option "interval" is deprecated: use "pushInterval"'])
})

test('the error says what the bad option got, whatever it is', async (t) => {
  // wrong on purpose
  const cases: Array<[any, string]> = [
    [{ pushInterval: () => 1000 }, 'a function'],
    [{ endpoint: new Registry() }, 'a Registry'],
    [{ unmatchedRoute: Symbol('route') }, 'Symbol(route)'],
    [{ maxSeries: 10n }, '10']
  ]
  for (const [opts, got] of cases) {
    const app = Fastify()
    app.register(corralMetrics, opts)
    await t.rejects(async () => await app.ready(), { code: 'CORRAL_METRICS_INVALID_OPTION', message: new RegExp(`^@corral/metrics: option "\\w+" must be .* \\(got ${got.replace(/[()]/g, '\\$&')}\\)$`) }, got)
  }
})

test('process gauges are marked per process; the app\'s own gauges in a registry of its own keep their aggregator', async (t) => {
  const registry = new Registry()
  // eslint-disable-next-line no-new
  new Gauge({ name: 'pool_size', help: 'Summed across workers.', registers: [registry] })
  const app = await build(t, { registry })
  const json = await app.metrics.registry.getMetricsAsJSON()
  const aggregatorOf = (name) => json.find((m) => m.name === name)?.aggregator
  t.equal(aggregatorOf('pool_size'), 'sum')
  t.equal(aggregatorOf('process_resident_memory_bytes'), 'average', 'kept per worker by the primary')
  t.equal(aggregatorOf('process_start_time_seconds'), 'average')
})
