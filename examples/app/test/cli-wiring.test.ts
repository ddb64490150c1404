// `corral start dist/app.js`, no Redis, no code in the primary: the workers'
// metrics, health, redis-session and realtime plugins bring their primary
// sides, so the admin server has /metrics, /workers, /dashboard and /health,
// the sessions live in the primary, shared by both workers, and Socket.IO
// broadcasts reach both workers' clients through the cluster adapter's relay.
import { fileURLToPath } from 'node:url'
import { test } from 'tap'
import { io, type Socket } from 'socket.io-client'
import { request, startApp, visitBothWorkers, waitFor } from '@corral/test-helpers'

interface Line { msg?: string, plugin?: string, [key: string]: unknown }

const app = fileURLToPath(new URL('../dist/app.js', import.meta.url))

test('corral start with metrics, health, redis-session and realtime in the workers gives the whole admin server, shared sessions and Socket.IO across workers', async (t) => {
  const { proc, url, admin } = await startApp(t, 'cli', { appFile: app, env: { REDIS_URL: '', REDIS_CLUSTER_NODES: '', REDIS_SENTINELS: '', DATABASE_URL: '' } })

  const loaded = proc.lines.filter((l: Line) => l.msg === 'primary module loaded').map((l: Line) => l.plugin).sort()
  t.same(loaded, ['@corral/health-aggregator', '@corral/metrics-aggregator', '@corral/realtime-primary', '@corral/redis-session-primary'], 'each primary side loaded once for 2 workers')

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

  // the cluster adapter's relay, asked for by the workers' Socket.IO servers
  const clients = Array.from({ length: 20 }, () => {
    const client: { socket: Socket, slot: number | null, messages: Array<{ text: string }> } = { socket: io(url, { transports: ['websocket'] }), slot: null, messages: [] }
    client.socket.on('hello', (hello: { slot: number }) => { client.slot = hello.slot })
    client.socket.on('chat', (message: { text: string }) => client.messages.push(message))
    return client
  })
  t.teardown(() => { for (const c of clients) c.socket.close() })
  await waitFor(() => clients.every((c) => c.slot !== null), { timeout: 15_000, message: 'every Socket.IO client connected' })
  t.same([...new Set(clients.map((c) => c.slot))].sort(), [0, 1], 'the Socket.IO clients are on both workers')
  t.equal((await request(`${url}/broadcast`, { method: 'POST', body: { text: 'across workers' } })).status, 200)
  await waitFor(() => clients.every((c) => c.messages.length > 0), { timeout: 15_000, message: 'every Socket.IO client to get the broadcast' })
  t.ok(clients.every((c) => c.messages[0].text === 'across workers'), 'the clients of both workers got it')
})
