// With no code in the primary, the worker plugin asks the cluster-boot primary
// for the aggregator: /metrics, /workers and /dashboard on the admin server,
// under boot() and `corral start`.
import { fileURLToPath } from 'node:url'
import { test, type Test } from 'tap'
import { freePort, spawnNode, startApp, waitFor } from '@corral/test-helpers'

interface Line { msg?: string, level?: number, [key: string]: unknown }
type Started = Awaited<ReturnType<typeof startApp>>

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const start = (t: Test, how: 'boot' | 'cli', env: Record<string, string> = {}): Promise<Started> =>
  startApp(t, how, { bootFile: fixture('wired-boot.mjs'), appFile: fixture('wired-app.mjs'), env })

async function servesTheMergedView (t: Test, { proc, get, admin }: Started): Promise<void> {
  t.match(proc.lines.filter((l: Line) => l.msg === 'primary module loaded'), [{ plugin: '@corral/metrics-aggregator', module: /metrics\/dist\/primary\.js$/ }], 'the aggregator, loaded once for 2 workers')
  for (let i = 0; i < 4; i++) t.equal((await get('/')).status, 200)
  const metrics = await waitFor(async () => {
    const res = await admin('/metrics')
    return res.status === 200 && /http_requests_total\{[^}]*route="\/"[^}]*\} 4/.test(res.body) ? res : null
  }, { message: 'the 4 requests counted in the merged /metrics' })
  t.match(metrics.headers['content-type'], /^text\/plain/)
  const workers = await waitFor(async () => {
    const res = await admin('/workers')
    return res.status === 200 && res.body.workers.length === 2 ? res : null
  }, { message: '/workers with both workers' })
  t.same(workers.body.workers.map((w: { slot: number }) => w.slot).sort(), [0, 1])
  const dashboard = await admin('/dashboard')
  t.equal(dashboard.status, 200)
  t.match(dashboard.headers['content-type'], /^text\/html/)
}

test('under boot() with no primary option, the admin server serves /metrics, /workers and /dashboard', async (t) => {
  await servesTheMergedView(t, await start(t, 'boot'))
})

test('under `corral start`, with no code in the primary, the admin server serves /metrics, /workers and /dashboard', async (t) => {
  await servesTheMergedView(t, await start(t, 'cli'))
})

test('the plugin\'s `primary` option reaches the aggregator', async (t) => {
  const { get, admin } = await start(t, 'boot', { PRIMARY_OPTS: JSON.stringify({ perWorker: true, workersEndpoint: '/machine', dashboard: false }) })
  await get('/')
  await waitFor(async () => (await admin('/machine')).status === 200, { message: '/machine' })
  t.equal((await admin('/workers')).status, 404, 'the default route moved')
  t.equal((await admin('/dashboard')).status, 404, 'no dashboard')
  await waitFor(async () => /http_requests_total\{[^}]*worker="[01]"/.test((await admin('/metrics')).body), { message: 'a worker label on the series' })
})

test('primary: false asks for nothing: no aggregator on the admin server', async (t) => {
  const { proc, admin } = await start(t, 'boot', { PRIMARY_OPTS: 'false' })
  t.equal((await admin('/metrics')).status, 404)
  t.equal(proc.lines.filter((l: Line) => l.msg === 'primary module loaded').length, 0)
})

test('aggregator options the primary refuses: the primary names the option, the workers say their metrics are not aggregated, and start', async (t) => {
  const { proc, admin, get } = await start(t, 'boot', { PRIMARY_OPTS: JSON.stringify({ perWorker: 'yes' }) })
  t.match(proc.lines.filter((l: Line) => l.msg === 'primary module not loaded'), [{ module: /metrics\/dist\/primary\.js$/, err: { code: 'CORRAL_METRICS_INVALID_OPTION', message: /"perWorker"/ } }])
  t.equal(proc.lines.filter((l: Line) => typeof l.msg === 'string' && l.msg.startsWith('@corral/metrics: the primary does not aggregate')).length, 2, 'each worker warns')
  t.equal((await admin('/metrics')).status, 404)
  t.equal((await get('/')).status, 200)
})

test('a `primary` option that is not an object stops the start, naming it', async (t) => {
  const port = await freePort()
  const proc = spawnNode(fixture('wired-boot.mjs'), { env: { PORT: String(port), ADMIN_PORT: String(await freePort()), PRIMARY_OPTS: '"yes"' } })
  t.teardown(() => proc.stop())
  t.equal((await proc.exited).code, 1)
  t.match(proc.lines.filter((l: Line) => l.level === 60), [{ msg: /@corral\/metrics: option "primary" must be an object/ }])
})
