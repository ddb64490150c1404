// With no code in the primary, the worker plugin asks the cluster-boot primary
// for the machine's view: /health on the admin server, under boot() and `corral start`.
import { fileURLToPath } from 'node:url'
import { test, type Test } from 'tap'
import { freePort, spawnNode, startApp, waitFor } from '@corral/test-helpers'

interface Line { msg?: string, level?: number, [key: string]: unknown }
type Admin = Awaited<ReturnType<typeof startApp>>['admin']

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const start = (t: Test, how: 'boot' | 'cli', env: Record<string, string> = {}): ReturnType<typeof startApp> =>
  startApp(t, how, { bootFile: fixture('wired-boot.mjs'), appFile: fixture('wired-app.mjs'), env })

async function machineReady (t: Test, admin: Admin, path = '/health'): Promise<void> {
  const res = await waitFor(async () => {
    const r = await admin(path)
    return r.status === 200 && r.body.workers?.filter((w: { ready: boolean }) => w.ready).length === 2 ? r : null
  }, { message: `${path} on the admin server with 2 ready workers` })
  t.match(res.headers['content-type'], /^application\/health\+json/)
  t.match(res.body, { status: 'pass', checks: { 'workers:ready': [{ observedValue: 2 }] } })
}

test('under boot() with no primary option, the admin server serves the machine\'s /health', async (t) => {
  const { proc, admin } = await start(t, 'boot')
  t.match(proc.lines.filter((l: Line) => l.msg === 'primary module loaded'), [{ plugin: '@corral/health-aggregator', module: /health\/dist\/primary\.js$/ }], 'loaded once for 2 workers')
  await machineReady(t, admin)
})

test('under `corral start`, with no code in the primary, the admin server serves the machine\'s /health', async (t) => {
  const { admin } = await start(t, 'cli')
  await machineReady(t, admin)
})

test('the plugin\'s `primary` option reaches the aggregator; false asks for nothing', async (t) => {
  const moved = await start(t, 'boot', { PRIMARY_OPTS: JSON.stringify({ path: '/machine' }) })
  await machineReady(t, moved.admin, '/machine')
  t.equal((await moved.admin('/health')).status, 404)
  await moved.proc.stop()
  const none = await start(t, 'boot', { PRIMARY_OPTS: 'false' })
  t.equal((await none.admin('/health')).status, 404)
  t.equal(none.proc.lines.filter((l: Line) => l.msg === 'primary module loaded').length, 0)
})

test('a `primary` option that is not an object stops the start, naming it', async (t) => {
  const proc = spawnNode(fixture('wired-boot.mjs'), { env: { PORT: String(await freePort()), ADMIN_PORT: String(await freePort()), PRIMARY_OPTS: '[]' } })
  t.teardown(() => proc.stop())
  t.equal((await proc.exited).code, 1)
  t.match(proc.lines.filter((l: Line) => l.level === 60), [{ msg: /@corral\/health: option "primary" must be an object/ }])
})
