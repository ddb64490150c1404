import { test } from 'tap'
import { sleep, waitFor } from '@corral/test-helpers'
import { sample, samples, scrapeUntil, startCluster } from './fixtures/cluster.js'

const USERS = { method: 'GET', route: '/users/:id', status_code: 200 }
const FAIL = { method: 'GET', route: '/fail', status_code: 500 }

test('two workers, one merged endpoint', async (t) => {
  const { get, admin, scrape } = await startCluster(t)
  const pids = new Set()
  for (let i = 0; i < 40; i++) pids.add((await get(`/users/${i}`)).body.pid)
  for (let i = 0; i < 6; i++) await get('/fail')
  for (let i = 0; i < 4; i++) await get('/job')
  await get('/no/such/route')

  await t.test('counts after N requests match exactly across 2 workers', async (t) => {
    t.equal(pids.size, 2, 'both workers answered')
    const text = await scrapeUntil(scrape, (x) => sample(x, 'http_requests_total', USERS) === 40 && sample(x, 'http_requests_total', FAIL) === 6 &&
      sample(x, 'http_requests_total', { method: 'GET', route: '/job', status_code: 200 }) === 4 &&
      sample(x, 'http_requests_total', { method: 'GET', route: 'unmatched', status_code: 404 }) === 1, 'every request counted')
    t.equal(sample(text, 'http_request_duration_seconds_count', USERS), 40, 'the histogram agrees')
    t.equal(sample(text, 'http_request_duration_seconds_bucket', { ...USERS, le: '+Inf' }), 40)
    t.equal(sample(text, 'fixture_jobs_total', { kind: 'mail' }), 4, 'custom counters are summed too')
    await sleep(300)
    t.equal(sample(await scrape(), 'http_requests_total', USERS), 40, 'and stay exact push after push')
  })

  await t.test('the route label is the pattern, never the URL', async (t) => {
    const text = await scrape()
    t.notMatch(text, /route="\/users\/\d/, 'no raw URL')
    t.equal(sample(text, 'http_requests_total', { method: 'GET', route: 'unmatched', status_code: 404 }), 1, 'unmatched routes share one label')
  })

  await t.test('GET /workers shows each worker and the load distribution', async (t) => {
    const res = await admin('/workers')
    t.equal(res.status, 200)
    const view = await waitForStats(admin)
    t.equal(view.workers.length, 2)
    t.same(view.workers.map((w) => w.slot), [0, 1])
    for (const w of view.workers) {
      t.ok(pids.has(w.pid), `slot ${w.slot} pid is a worker's`)
      t.equal(w.state, 'ready')
      t.ok(w.requests > 0, `slot ${w.slot} answered requests`)
      t.type(w.uptime, 'number')
      t.equal(w.restarts, 0)
      t.ok(w.lastPush >= 0 && w.lastPush < 5000, 'pushed lately')
      t.ok(w.rss > 0 && w.heapUsed > 0 && w.heapTotal > 0, 'memory')
      t.ok(w.eventLoopDelay >= 0 && w.eventLoopUtilization >= 0, 'event loop')
      t.equal(w.inFlight, 0)
      t.equal(w.openConnections, 3, 'open real-time connections, every transport')
    }
    t.equal(view.workers.reduce((n, w) => n + w.requests, 0), 51, 'requests per worker add up')
    t.equal(view.workers.reduce((n, w) => n + w.errors, 0), 6, '5xx per worker add up')
    t.same(view.totals, { requests: 51, errors: 6 })
    t.equal(view.crashLoop, false)
  })

  await t.test('supervisor metrics and the primary process metrics are in the output', async (t) => {
    const text = await scrape()
    t.equal(sample(text, 'corral_workers_alive'), 2)
    t.equal(sample(text, 'corral_workers_ready'), 2)
    t.equal(sample(text, 'corral_worker_restarts_total'), 0)
    t.equal(sample(text, 'corral_reloads_total'), 0)
    t.equal(sample(text, 'corral_crash_loop'), 0)
    t.ok(sample(text, 'process_resident_memory_bytes', { worker: 'primary' }) > 0, 'the primary RSS, labelled in the same family')
    t.notMatch(text, /corral_primary_/, 'no prefixed copy of the process metrics')
    t.ok(sample(text, 'corral_metrics_snapshots_received_total') > 2)
    t.ok(sample(text, 'corral_metrics_push_duration_seconds_count') > 0, 'the cost of pushes is measured')
  })

  await t.test('quantiles and event-loop percentiles stay per worker', async (t) => {
    const text = await scrape()
    const p99 = samples(text, 'nodejs_eventloop_lag_p99_seconds')
    t.same(p99.map((s) => s.labels.worker).sort(), ['0', '1', 'primary'], 'one event-loop p99 per worker, and the primary\'s')
    const utilization = samples(text, 'nodejs_eventloop_utilization_ratio')
    t.equal(utilization.length, 3)
    const quantiles = samples(text, 'fixture_latency_seconds').filter((s) => s.labels.quantile === '0.5')
    t.ok(quantiles.length >= 1 && quantiles.every((s) => s.labels.worker !== undefined), 'summary quantiles carry the worker')
    t.equal(samples(text, 'http_requests_total').filter((s) => s.labels.worker !== undefined).length, 0, 'counters are one sum')
  })

  await t.test('OpenMetrics when the scraper asks for it', async (t) => {
    const res = await admin('/metrics', { headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' } })
    t.match(res.headers['content-type'], /^application\/openmetrics-text; version=1.0.0/)
    t.match(res.body, /# TYPE http_requests counter\n/)
    t.match(res.body, /\n# EOF\n$/)
    const text = await admin('/metrics')
    t.match(text.headers['content-type'], /^text\/plain; version=0.0.4/)
    t.match(text.body, /# TYPE http_requests_total counter\n/, 'a later Prometheus scrape is unharmed')
  })

  await t.test('the dashboard page is served', async (t) => {
    const res = await admin('/dashboard')
    t.equal(res.status, 200)
    t.match(res.headers['content-type'], /text\/html/)
    t.match(res.body, /"\/workers"/)
    t.match(res.body, /"\/workers\/history"/)
    t.notMatch(res.body, /<script src=|<link rel="stylesheet"|https?:\/\/(?!www\.w3\.org)/, 'nothing loaded from elsewhere')
  })

  await t.test('GET /workers/history: samples of every worker and the total, after `since`', async (t) => {
    const all = await waitFor(async () => {
      const { body } = await admin('/workers/history?since=nonsense')
      return body.samples.length >= 2 ? body : false
    }, { message: 'two samples' })
    t.equal(all.step, 1000)
    const last = all.samples.at(-1)
    t.same(Object.keys(last.workers), ['0', '1'])
    t.type(last.total.rps, 'number')
    t.equal((await admin(`/workers/history?since=${last.t}`)).body.samples.length, 0, 'nothing newer than the last one yet')
    const view = (await admin('/workers')).body
    t.same(view.slots.map((s) => [s.slot, s.status]), [[0, 'up'], [1, 'up']], 'every slot up, as cluster-boot reports it')
    t.ok(view.workers.every((w) => w.unresponsive === false))
  })
})

test('per-process gauges are per worker, never summed; start times are there', async (t) => {
  const { scrape } = await startCluster(t)
  const text = await scrapeUntil(scrape, (x) => samples(x, 'process_start_time_seconds').length === 3, 'three start times')
  for (const name of ['process_max_fds', 'process_open_fds', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_active_handles_total', 'process_start_time_seconds']) {
    const series = samples(text, name)
    t.same(series.map((s) => s.labels.worker).sort(), ['0', '1', 'primary'], `${name}: one series per worker and the primary's, each labelled`)
  }
  const limits = samples(text, 'process_max_fds')
  t.equal(new Set(limits.map((s) => s.value)).size, 1, 'every process has its own fd limit, none of them a sum')
  for (const s of samples(text, 'process_start_time_seconds')) t.ok(Math.abs(s.value - Date.now() / 1000) < 120, 'a start time in seconds since the epoch')
})

test('perWorker: true labels every series with the stable slot', async (t) => {
  const { get, scrape } = await startCluster(t, { aggregator: { perWorker: true } })
  for (let i = 0; i < 20; i++) await get(`/users/${i}`)
  const text = await scrapeUntil(scrape, (x) => samples(x, 'http_requests_total').reduce((n, s) => n + s.value, 0) === 20, '20 requests')
  const series = samples(text, 'http_requests_total')
  t.same(series.map((s) => s.labels.worker).sort(), ['0', '1'])
  t.ok(series.every((s) => s.value > 0))
  t.notMatch(text, /worker="\d{3,}"/, 'the slot, never a pid')
  t.equal(samples(text, 'process_resident_memory_bytes').length, 3, 'gauges per worker too (and the primary\'s)')
})

/** GET /workers once cluster-boot's stats arrived for every worker. */
function waitForStats (admin) {
  return waitFor(async () => {
    const { body } = await admin('/workers')
    return body.workers.every((w) => w.rss !== null) ? body : false
  }, { message: 'worker stats' })
}
