import { test } from 'tap'
import { sleep, waitFor } from '@corral/test-helpers'
import { sample, samples, scrapeUntil, startCluster } from './fixtures/cluster.js'

const ROOT = { method: 'GET', route: '/', status_code: 200 }
const USERS = { method: 'GET', route: '/users/:id', status_code: 200 }
const LATE_GRACE_MS = 5000

test('a worker killed with SIGKILL keeps its counts in the sum', async (t) => {
  const { get, admin, scrape } = await startCluster(t)
  for (let i = 0; i < 30; i++) await get(`/users/${i}`)
  await scrapeUntil(scrape, (x) => sample(x, 'http_requests_total', USERS) === 30, '30 requests')
  const before = (await admin('/workers')).body.workers
  const victim = before.find((w) => w.slot === 0)
  t.ok(victim.requests > 0, 'the victim had answered some')

  process.kill(victim.pid, 'SIGKILL')
  const after = await waitFor(async () => {
    const { body } = await admin('/workers')
    const slot0 = body.workers.find((w) => w.slot === 0)
    return slot0 !== undefined && slot0.pid !== victim.pid && slot0.state === 'ready' ? body : false
  }, { message: 'slot 0 respawned' })
  t.equal(after.workers.find((w) => w.slot === 0).restarts, 1)
  const history = (await admin('/workers/history')).body
  t.same(history.markers.filter((m) => m.slot === 0).map((m) => m.kind), ['crash', 'restart'], 'the crash and the restart are marked on the charts')
  t.equal(history.lastErrors[0].detail, 'killed by SIGKILL', 'and the slot\'s last error is kept')

  let text = await scrape()
  t.equal(sample(text, 'http_requests_total', USERS), 30, 'the dead worker\'s requests are still counted')
  t.equal(sample(text, 'corral_worker_restarts_total'), 1)
  t.equal(sample(text, 'http_request_duration_seconds_count', USERS), 30, 'histograms too')

  for (let i = 0; i < 10; i++) await get(`/users/${i}`)
  text = await scrapeUntil(scrape, (x) => sample(x, 'http_requests_total', USERS) === 40, '30 + 10 requests')
  t.pass('new requests add on top: the counter only grows')

  await sleep(LATE_GRACE_MS + 300)
  text = await scrape()
  t.equal(sample(text, 'http_requests_total', USERS), 40, 'still exact once the dead worker is folded into its slot')
  t.same((await admin('/workers')).body.totals.requests, 40, 'the totals of /workers include it')
})

test('a scrape does not wait for a worker stuck in a synchronous loop', async (t) => {
  const { get, admin, scrape } = await startCluster(t)
  for (let i = 0; i < 10; i++) await get('/')
  await scrapeUntil(scrape, (x) => sample(x, 'http_requests_total', ROOT) === 10, '10 requests')

  const blocked = (await get('/block?ms=2000&times=2')).body.pid
  await sleep(200)
  const timings: number[] = []
  let text
  const started = Date.now()
  for (let i = 0; i < 10; i++) {
    const t0 = Date.now()
    text = await scrape()
    timings.push(Date.now() - t0)
  }
  const elapsed = Date.now() - started
  t.ok(Math.max(...timings) < 1000, `every scrape answered well within the 2 s loop (slowest ${Math.max(...timings)} ms)`)
  t.ok(elapsed < 2000, `10 scrapes took ${elapsed} ms while the worker was blocked`)
  t.equal(sample(text, 'http_requests_total', ROOT), 10, 'the blocked worker\'s counts are still in, from its last push')
  const view = (await admin('/workers')).body
  t.ok(view.workers.find((w) => w.pid === blocked).requests > 0, 'the blocked worker is listed with what it had answered')
})

test('a graceful stop loses nothing: the last counts are pushed on drain and on close', async (t) => {
  // one push at start-up, then none for a minute: only the drain and close pushes can carry the counts
  const { get, admin, scrape } = await startCluster(t, { metrics: { pushInterval: 60_000 } })
  for (let i = 0; i < 12; i++) await get(`/users/${i}`)
  const slow = get('/slow?ms=1200')
  await sleep(200)
  t.equal(sample(await scrape(), 'http_requests_total', USERS), undefined, 'nothing pushed yet')

  const reload = await admin('/reload', { method: 'POST', headers: { 'x-corral-admin': '1' } })
  t.equal(reload.status, 200, 'every worker was replaced gracefully')
  t.equal((await slow).status, 200, 'the in-flight request finished')

  const text = await scrapeUntil(scrape, (x) => sample(x, 'http_requests_total', { method: 'GET', route: '/slow', status_code: 200 }) === 1, 'the in-flight request counted')
  t.equal(sample(text, 'http_requests_total', USERS), 12, 'every request answered before the stop is counted')
  t.equal(sample(text, 'corral_reloads_total'), 1)
})

test('malformed snapshots are dropped and counted; good ones still arrive', async (t) => {
  const { get, scrape, proc } = await startCluster(t)
  const { body } = await get('/garbage')
  t.equal(body.sent, 3)
  const text = await scrapeUntil(scrape, (x) => sample(x, 'corral_metrics_snapshots_dropped_total', { reason: 'malformed' }) === 3, '3 dropped')
  t.notOk(/\blots\b/.test(text), 'nothing of them reached the output')
  for (let i = 0; i < 5; i++) await get('/')
  await scrapeUntil(scrape, (x) => sample(x, 'http_requests_total', ROOT) === 5, 'later snapshots still merged')
  const warnings = proc.lines.filter((l) => l.msg === 'metrics snapshot dropped')
  t.equal(warnings.length, 1, 'logged once for the worker, not once per message')
  t.equal(warnings[0].reason, 'malformed')
  t.equal(warnings[0].pid, body.pid)
})

test('a worker sending families named constructor, __proto__, toString does not break /metrics', async (t) => {
  // no periodic push after the first: the hostile snapshot stays the latest
  const { get, admin, scrape } = await startCluster(t, { metrics: { pushInterval: 60_000 } })
  for (let i = 0; i < 5; i++) await get('/')
  await get('/hostile')
  const text = await scrapeUntil(scrape, (x) => sample(x, 'constructor') === 1, 'the hostile snapshot merged')
  t.equal((await admin('/metrics')).status, 200)
  t.equal(sample(text, '__proto__'), 2)
  t.equal(sample(text, 'toString'), 3)
  t.equal(sample(text, 'hasOwnProperty'), 4)
  t.ok(sample(text, 'corral_workers_alive') === 2, 'the primary\'s own metrics are there')
  t.equal(samples(text, 'process_resident_memory_bytes').length, 3, 'and every worker\'s metrics (and the primary\'s)')
  const open = await admin('/metrics', { headers: { accept: 'application/openmetrics-text' } })
  t.equal(open.status, 200, 'OpenMetrics too')
})

test('a push that fails is logged and the next ones go on; a push can be asked for', async (t) => {
  const { get, scrape, proc } = await startCluster(t, { workers: 1, metrics: { pushInterval: 200 } })
  await get('/break?on=1')
  await proc.waitForLine((l) => l.msg === 'metrics push failed' && /collect blew up/.test(l.err?.message))
  t.equal((await get('/push')).body.pushed, false, 'an explicit push fails the same way, without throwing')
  await get('/break?on=0')
  t.equal((await get('/push')).body.pushed, true, 'and goes through once collection works again')
  await scrapeUntil(scrape, (x) => sample(x, 'http_requests_total', { method: 'GET', route: '/break', status_code: 200 }) === 2, 'pushes resumed')
})
