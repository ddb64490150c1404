// `corral start dist/app.js`, no Redis, no code in the primary: the workers'
// metrics, health and redis-session plugins bring their primary sides, so the
// admin server has /metrics, /workers, /dashboard and /health, and the
// sessions live in the primary, shared by both workers.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { test } from 'tap'
import { freePort, request, spawnNode, waitFor } from '../../../test/helpers/index.js'

interface Line { msg?: string, plugin?: string, [key: string]: unknown }

const app = fileURLToPath(new URL('../dist/app.js', import.meta.url))
const cli = createRequire(import.meta.url).resolve('@corral/cluster-boot/package.json').replace(/package\.json$/, 'bin/corral.js')

test('corral start with metrics, health and redis-session in the workers gives the whole admin server and shared sessions', async (t) => {
  const port = await freePort()
  const adminPort = await freePort()
  const proc = spawnNode(cli, {
    args: ['start', app, '-i', '2', '-p', String(port), '--admin-port', String(adminPort)],
    env: { REDIS_URL: '', REDIS_CLUSTER_NODES: '', REDIS_SENTINELS: '', DATABASE_URL: '' }
  })
  t.teardown(() => proc.stop())
  await proc.waitForLine((l: Line) => l.msg === 'all workers ready', 60_000)
  const admin = (p: string): ReturnType<typeof request> => request(`http://127.0.0.1:${adminPort}${p}`)
  const get = (p: string, init?: object): ReturnType<typeof request> => request(`http://127.0.0.1:${port}${p}`, init)

  const loaded = proc.lines.filter((l: Line) => l.msg === 'primary module loaded').map((l: Line) => l.plugin).sort()
  t.same(loaded, ['@corral/health-aggregator', '@corral/metrics-aggregator', '@corral/redis-session-primary'], 'each primary side loaded once for 2 workers')

  const login = await get('/login', { method: 'POST', body: { user: 'alice' } })
  t.equal(login.status, 200)
  const cookie = String(login.headers['set-cookie']).split(';')[0]
  const slots = new Set<number>()
  const visits: number[] = []
  for (let i = 0; i < 12; i++) {
    const me = await get('/me', { headers: { cookie } })
    slots.add(me.body.slot)
    visits.push(me.body.visits)
  }
  t.same([...slots].sort(), [0, 1], 'both workers served the session')
  t.same(visits, Array.from({ length: 12 }, (_, i) => i + 1), 'every worker saw every write')

  const metrics = await waitFor(async () => {
    const res = await admin('/metrics')
    return res.status === 200 && /http_requests_total\{[^}]*route="\/me"/.test(res.body) ? res : null
  }, { message: 'the requests in the merged /metrics' })
  t.match(metrics.body, /corral_embedded_store_entries\{kind="sessions"\} 1/, 'the embedded store\'s size too')
  t.equal((await admin('/workers')).status, 200)
  t.equal((await admin('/dashboard')).status, 200)
  const health = await waitFor(async () => {
    const res = await admin('/health')
    return res.status === 200 && res.body.status === 'pass' ? res : null
  }, { message: 'the machine\'s /health passing' })
  t.match(health.body, { checks: { 'workers:ready': [{ observedValue: 2 }] } })
})
