// With no Redis and no code in the primary, the worker plugin asks the
// cluster-boot primary for the embedded store: under boot() and `corral start`.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { freePort, request, spawnNode } from '../../../test/helpers/index.js'
import { sessionCookie } from './fixtures/session-app.js'

interface Line { msg?: string, store?: string, plugin?: string, [key: string]: unknown }
type Proc = ReturnType<typeof spawnNode>

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const cli = createRequire(import.meta.url).resolve('@corral/cluster-boot/package.json').replace(/package\.json$/, 'bin/corral.js')
const { REDIS_URL: _url, REDIS_CLUSTER_NODES: _nodes, REDIS_SENTINELS: _sentinels, ...noRedisEnv } = process.env

async function started (t: Test, proc: Proc, port: number): Promise<{ proc: Proc, url: string }> {
  t.teardown(() => proc.stop())
  await proc.waitForLine((l: Line) => l.msg === 'all workers ready', 20_000)
  return { proc, url: `http://127.0.0.1:${port}` }
}

async function underBoot (t: Test, { admin = true, env = {} }: { admin?: boolean, env?: Record<string, string> } = {}): Promise<{ proc: Proc, url: string }> {
  const port = await freePort()
  const adminEnv = admin ? { ADMIN_PORT: String(await freePort()) } : {}
  return started(t, spawnNode(fixture('wired-boot.mjs'), { env: { ...noRedisEnv, PORT: String(port), ...adminEnv, ...env } }), port)
}

async function underCli (t: Test): Promise<{ proc: Proc, url: string }> {
  const port = await freePort()
  const adminPort = await freePort()
  const proc = spawnNode(cli, { args: ['start', fixture('wired-app.mjs'), '-i', '2', '-p', String(port), '--admin-port', String(adminPort)], env: noRedisEnv })
  return started(t, proc, port)
}

/** Logs in, then reads and writes the session on fresh connections until both workers answered. */
async function sharedByBothWorkers (t: Test, url: string): Promise<void> {
  const login = await request(`${url}/login`, { method: 'POST', body: { user: 'alice' } })
  t.equal(login.status, 200)
  const cookie = sessionCookie(login)
  const slots = new Set<number>()
  const visits: number[] = []
  for (let i = 0; i < 12; i++) {
    const res = await request(`${url}/me`, { headers: { cookie } })
    slots.add(res.body.slot)
    visits.push(res.body.visits)
  }
  t.same([...slots].sort(), [0, 1], 'both workers served the session')
  t.same(visits, Array.from({ length: 12 }, (_, i) => i + 1), 'every worker saw every write')
}

function loadedOnce (t: Test, proc: Proc): void {
  const loaded = proc.lines.filter((l: Line) => l.msg === 'primary module loaded')
  t.match(loaded, [{ plugin: '@corral/redis-session-primary', module: /redis-session\/dist\/primary\.js$/ }], 'the embedded store, loaded once for 2 workers')
  const said = proc.lines.filter((l: Line) => l.store !== undefined)
  t.same(said.map((l: Line) => l.store), ['primary', 'primary'], 'each worker uses the store in the primary')
}

t.test('under boot() with no primary option, 2 workers share sessions in the primary', async (t) => {
  const { proc, url } = await underBoot(t)
  loadedOnce(t, proc)
  await sharedByBothWorkers(t, url)
})

t.test('with admin: false too: the store needs no admin server', async (t) => {
  const { proc, url } = await underBoot(t, { admin: false })
  loadedOnce(t, proc)
  await sharedByBothWorkers(t, url)
})

t.test('under `corral start`, with no code in the primary, 2 workers share sessions', async (t) => {
  const { proc, url } = await underCli(t)
  loadedOnce(t, proc)
  await sharedByBothWorkers(t, url)
})

t.test('the plugin\'s `primary` option reaches the store in the primary', async (t) => {
  const { url } = await underBoot(t, { env: { PRIMARY_OPTS: JSON.stringify({ maxSessions: 1 }) } })
  const alice = sessionCookie(await request(`${url}/login`, { method: 'POST', body: { user: 'alice' } }))
  t.same((await request(`${url}/peek`, { headers: { cookie: alice } })).body, { user: 'alice', visits: 0 })
  await request(`${url}/login`, { method: 'POST', body: { user: 'bob' } })
  t.same((await request(`${url}/peek`, { headers: { cookie: alice } })).body, { user: null, visits: null }, 'maxSessions: 1, so bob\'s login evicted alice')
})
