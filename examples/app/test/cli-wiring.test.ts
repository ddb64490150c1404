// `corral start dist/app.js`, no Redis, no code in the primary: the workers'
// metrics, health and redis-session plugins bring their primary sides, so the
// admin server has /metrics, /workers, /dashboard and /health, and the
// sessions live in the primary, shared by both workers.
import { fileURLToPath } from 'node:url'
import { test } from 'tap'
import { startApp, visitBothWorkers, waitFor } from '@corral/test-helpers'

interface Line { msg?: string, plugin?: string, [key: string]: unknown }

const app = fileURLToPath(new URL('../dist/app.js', import.meta.url))

test('corral start with metrics, health and redis-session in the workers gives the whole admin server and shared sessions', async (t) => {
  const { proc, url, admin } = await startApp(t, 'cli', { appFile: app, env: { REDIS_URL: '', REDIS_CLUSTER_NODES: '', REDIS_SENTINELS: '', DATABASE_URL: '' } })

  const loaded = proc.lines.filter((l: Line) => l.msg === 'primary module loaded').map((l: Line) => l.plugin).sort()
  t.same(loaded, ['@corral/health-aggregator', '@corral/metrics-aggregator', '@corral/redis-session-primary'], 'each primary side loaded once for 2 workers')

  await visitBothWorkers(t, url)

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
