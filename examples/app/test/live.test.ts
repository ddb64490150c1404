// The live channel: real WebSocket (ws) and Socket.IO clients against the
// example app clustered on two workers; a message published on one worker
// reaches the clients of both: WebSockets through app.bus (embedded in the
// primary here: no Redis), Socket.IO through the cluster adapter.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'tap'
import WebSocket from 'ws'
import { io, type Socket } from 'socket.io-client'
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
      if (data.hello) { client.slot = data.slot; resolve(client) } else client.messages.push(data.data)
    })
    socket.on('close', (code) => { client.closed = code })
    socket.on('error', reject)
  })
}

test(`a message published on one worker reaches all ${CLIENTS} WebSocket clients of both workers`, async (t) => {
  const { port, admin } = await startExample(t)
  const clients: any[] = []
  for (let i = 0; i < CLIENTS; i += 20) clients.push(...await Promise.all(Array.from({ length: 20 }, () => connect(port))))
  t.teardown(() => { for (const c of clients) c.socket.terminate() })
  const slots = new Set(clients.map((c) => c.slot))
  t.same([...slots].sort(), [0, 1], 'the clients are spread over both workers')
  const open = async () => (await admin('/workers')).body.workers.map((w) => w.openConnections)
  await waitFor(async () => (await open()).reduce((a, b) => a + b, 0) === CLIENTS, { timeout: 10_000, message: '/workers to count every connection' })
  t.same(await open(), [0, 1].map((slot) => clients.filter((c) => c.slot === slot).length), "/workers shows each worker's open connections")

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

test('Socket.IO on the same channel: POST /broadcast and a WebSocket message reach Socket.IO clients on both workers, and theirs reach the WebSockets', async (t) => {
  const { port } = await startExample(t)
  const script = await request(`http://127.0.0.1:${port}/socket.io/socket.io.js`)
  t.equal(script.status, 200, 'the app serves the Socket.IO client script')
  t.match(script.headers['content-type'], /javascript/)
  const page = await request(`http://127.0.0.1:${port}/chat`)
  t.match(page.body, '<script src="/socket.io/socket.io.js"></script>', 'the chat page loads it from the app, not a CDN')

  const sio = Array.from({ length: 20 }, () => {
    const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'] })
    const client: { socket: Socket, slot: number | null, messages: any[] } = { socket, slot: null, messages: [] }
    socket.on('hello', (hello) => { client.slot = hello.slot })
    socket.on('chat', (message) => client.messages.push(message))
    return client
  })
  t.teardown(() => { for (const c of sio) c.socket.close() })
  const ws = await Promise.all(Array.from({ length: 20 }, () => connect(port)))
  t.teardown(() => { for (const c of ws) c.socket.terminate() })
  await waitFor(() => sio.every((c) => c.slot !== null), { timeout: 15_000, message: 'every Socket.IO client connected' })
  t.same(new Set(sio.map((c) => c.slot)), new Set([0, 1]), 'the Socket.IO clients are on both workers')

  const res = await request(`http://127.0.0.1:${port}/broadcast`, { method: 'POST', body: { text: 'to both transports' } })
  t.equal(res.status, 200)
  const everyone = () => [...sio, ...ws]
  await waitFor(() => everyone().every((c) => c.messages.length > 0), { timeout: 15_000, message: 'every client to get the broadcast' })
  t.ok(everyone().every((c) => c.messages[0].text === 'to both transports'), 'every client of both transports got it')

  ws[0].socket.send('from a WebSocket')
  await waitFor(() => sio.every((c) => c.messages.length > 1), { timeout: 15_000, message: 'the Socket.IO clients to get the WebSocket message' })
  t.ok(sio.every((c) => c.messages[1].text === 'from a WebSocket' && c.messages[1].transport === 'websocket'))
  sio[0].socket.emit('chat', 'from Socket.IO')
  await waitFor(() => ws.every((c) => c.messages.length > 2), { timeout: 15_000, message: 'the WebSockets to get the Socket.IO message' })
  t.ok(ws.every((c) => c.messages[2].text === 'from Socket.IO' && c.messages[2].transport === 'socket.io'))

  const counts = await Promise.all([0, 1].map(async () => (await request(`http://127.0.0.1:${port}/live/clients`)).body))
  t.ok(counts.every((c) => c.websocket >= 0 && c.socketio >= 0), 'each worker counts its connections by transport')
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
