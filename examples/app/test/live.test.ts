// The live channel: real WebSocket clients (ws) against the example app
// clustered on two workers; a message published on one worker reaches the
// clients of both, through app.bus (embedded in the primary here: no Redis).
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'tap'
import WebSocket from 'ws'
import { freePort, request, spawnNode, waitFor, type RequestOptions } from '@corral/test-helpers'

const here = path.dirname(fileURLToPath(import.meta.url))
const CLIENTS = 200

async function startExample (t, env = {}) {
  const port = await freePort()
  const adminPort = await freePort()
  const proc = spawnNode(path.join(here, '..', 'dist', 'server.js'), {
    env: { PORT: String(port), ADMIN_PORT: String(adminPort), WORKERS: '2', REDIS_URL: '', DATABASE_URL: '', ...env }
  })
  t.teardown(() => proc.stop('SIGKILL'))
  const admin = (p: string, init: RequestOptions = {}) => request(`http://127.0.0.1:${adminPort}${p}`, { ...init, headers: { 'x-corral-admin': '1', ...init.headers } })
  await waitFor(async () => {
    try {
      const { body } = await admin('/supervisor')
      return body.workers.length === 2 && body.workers.every((w) => w.state === 'ready')
    } catch { return false }
  }, { timeout: 60_000, message: 'two ready workers' })
  return { port, admin, proc }
}

/** A client that keeps what it receives; resolves once the worker said hello. */
interface Client { socket: WebSocket, messages: any[], slot: number | null, closed: number | null }

function connect (port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/live`)
    const client: Client = { socket, messages: [], slot: null, closed: null }
    socket.on('message', (raw) => {
      const data = JSON.parse(raw.toString())
      if (data.hello) { client.slot = data.slot; resolve(client) } else client.messages.push(data)
    })
    socket.on('close', (code) => { client.closed = code })
    socket.on('error', reject)
  })
}

test(`a message published on one worker reaches all ${CLIENTS} WebSocket clients of both workers`, async (t) => {
  const { port } = await startExample(t)
  const clients: any[] = []
  for (let i = 0; i < CLIENTS; i += 20) clients.push(...await Promise.all(Array.from({ length: 20 }, () => connect(port))))
  t.teardown(() => { for (const c of clients) c.socket.terminate() })
  const slots = new Set(clients.map((c) => c.slot))
  t.same([...slots].sort(), [0, 1], 'the clients are spread over both workers')

  const res = await request(`http://127.0.0.1:${port}/broadcast`, { method: 'POST', body: { text: 'to everyone' } })
  t.equal(res.status, 200)
  await waitFor(() => clients.every((c) => c.messages.length > 0), { timeout: 15_000, message: 'every client to get the broadcast' })
  t.equal(clients.filter((c) => c.messages[0]?.text === 'to everyone').length, CLIENTS, `all ${CLIENTS} got it`)
  t.equal(new Set(clients.map((c) => c.messages[0].fromSlot)).size, 1, 'published once, by the worker that took the POST')

  // a message a client sends goes the same way
  clients[0].socket.send('from a client')
  await waitFor(() => clients.every((c) => c.messages.length > 1), { timeout: 15_000, message: 'every client to get the chat message' })
  t.equal(clients.filter((c) => c.messages[1].text === 'from a client').length, CLIENTS)
})

test('a rolling reload closes every live client with 1001 (Going Away), and they connect again', async (t) => {
  const { port, admin } = await startExample(t)
  const clients = await Promise.all(Array.from({ length: 20 }, () => connect(port)))
  const reload = await admin('/reload', { method: 'POST' })
  t.match(reload.body, { ok: true })
  await waitFor(() => clients.every((c) => c.closed !== null), { timeout: 15_000, message: 'every old client closed' })
  t.same([...new Set(clients.map((c) => c.closed))], [1001], 'closed with 1001')
  const again = await Promise.all(clients.map(() => connect(port)))
  t.teardown(() => { for (const c of again) c.socket.terminate() })
  t.equal(again.length, 20, 'every client connected again')
})
