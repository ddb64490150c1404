import t from 'tap'
import { performance } from 'node:perf_hooks'
import Fastify from 'fastify'
import corralMetrics from '@corral/metrics'

const line = (text, prefix) => Number(text.split('\n').find((l) => l.startsWith(prefix))?.split(' ').pop())

t.test('request durations land in the first bucket at or above them, cumulatively, with sum and count', async (t) => {
  const app = Fastify()
  // bucket bounds far from the durations: on a loaded machine a 30 ms route took over 100 ms and an inject over 25 ms
  await app.register(corralMetrics, { buckets: [0.025, 5, 10] })
  app.get('/fast', async () => 'x')
  app.get('/slow', async () => {
    // setTimeout may fire up to 1 ms early by the high-resolution clock (libuv rounds its loop time to ms): wait until 30 ms really passed
    const until = performance.now() + 30
    while (performance.now() < until) await new Promise((resolve) => setTimeout(resolve, Math.ceil(until - performance.now())))
    return 'x'
  })
  t.teardown(() => app.close())
  for (let i = 0; i < 3; i++) await app.inject('/fast')
  await app.inject('/slow')
  const text = (await app.inject('/metrics')).body
  const slow = 'method="GET",route="/slow",status_code="200"'
  t.equal(line(text, `http_request_duration_seconds_bucket{le="0.025",${slow}}`), 0)
  t.equal(line(text, `http_request_duration_seconds_bucket{le="5",${slow}}`), 1)
  t.equal(line(text, `http_request_duration_seconds_bucket{le="+Inf",${slow}}`), 1)
  t.ok(line(text, `http_request_duration_seconds_sum{${slow}}`) >= 0.03)
  const fast = 'method="GET",route="/fast",status_code="200"'
  t.equal(line(text, `http_request_duration_seconds_bucket{le="5",${fast}}`), 3)
  t.equal(line(text, `http_request_duration_seconds_count{${fast}}`), 3)
  const json = await app.metrics.registry.getSingleMetricAsString('http_request_duration_seconds')
  t.match(json, /# TYPE http_request_duration_seconds histogram/)
  app.metrics.registry.resetMetrics()
  t.equal(line((await app.inject('/metrics')).body, `http_request_duration_seconds_count{${fast}}`), 3, 'like the counter, rebuilt from the tallies')
})

t.test('the default buckets resolve a sub-millisecond service and a 10 s one', async (t) => {
  const app = Fastify()
  await app.register(corralMetrics)
  app.get('/fast', async () => 'x')
  t.teardown(() => app.close())
  await app.inject('/fast')
  const text = (await app.inject('/metrics')).body
  const bounds = [...text.matchAll(/http_request_duration_seconds_bucket\{le="([^"]+)",method="GET",route="\/fast"/g)].map((m) => m[1])
  t.same(bounds, ['0.0001', '0.00025', '0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'])
})
