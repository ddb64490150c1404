// Socket.IO across workers: Corral (cluster-boot's boot() with scheduling
// 'sticky' on the sid, @socket.io/cluster-adapter) against the anchor users
// would pick under node:cluster (@socket.io/sticky + @socket.io/cluster-adapter),
// side by side in one run, rounds interleaved. For each: 1,000 clients
// connect (long-polling handshake, then the upgrade to WebSocket, both routed
// to the worker that issued the sid), the connections each worker holds, and
// broadcast fan-out latency: one client asks its worker to io.emit(), every
// client notes when it arrives; p50/p99 over every receipt, from publish to
// receipt. `node bench/realtime.mjs` (REALTIME_CLIENTS, REALTIME_BROADCASTS,
// BENCH_ROUNDS, WORKERS).
import { performance } from 'node:perf_hooks'
import { io } from 'socket.io-client'
import { printTable, writeResults } from './lib/load.mjs'
import { app, withNode, WORKERS } from './lib/contenders.mjs'
import { sleep } from './lib/process.mjs'

const CLIENTS = Number(process.env.REALTIME_CLIENTS ?? 1000)
const BROADCASTS = Number(process.env.REALTIME_BROADCASTS ?? 50)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
/** clients connecting at once: a herd of 1,000 handshakes measures the client process more than the servers */
const CONNECT_BATCH = 50

const contenders = {
  corral: { file: 'realtime-corral.mjs', label: "Corral (sticky 'sid' + cluster-adapter)" },
  anchor: { file: 'realtime-anchor.mjs', label: '@socket.io/sticky + cluster-adapter (node:cluster)' }
}

const percentile = (sorted, p) => sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
const round2 = (n) => n === null ? null : Math.round(n * 100) / 100

/** One client: resolves with it once it said hello and runs on WebSocket. */
function connect (url, state) {
  return new Promise((resolve, reject) => {
    const socket = io(url, { forceNew: true, reconnection: false, timeout: 20_000 })
    const client = { socket, pid: undefined }
    let upgraded = false
    const done = () => { if (client.pid !== undefined && upgraded) resolve(client) }
    socket.once('hello', ({ pid }) => { client.pid = pid; done() })
    socket.io.engine.once('upgrade', () => { upgraded = true; done() })
    socket.once('connect_error', (err) => { state.errors.push(`connect: ${err.message}`); reject(err) })
    socket.on('disconnect', (reason) => { if (!state.closing) state.errors.push(`disconnect: ${reason}`) })
    socket.on('news', (seq) => {
      const sent = state.sent[seq]
      if (sent === undefined) return
      state.latencies.push(performance.now() - sent)
      state.received[seq]++
    })
  })
}

async function measure (port) {
  const url = `http://127.0.0.1:${port}`
  const state = { errors: [], sent: [], received: [], latencies: [], closing: false }
  const clients = []
  const started = performance.now()
  for (let i = 0; i < CLIENTS; i += CONNECT_BATCH) {
    const batch = await Promise.allSettled(Array.from({ length: Math.min(CONNECT_BATCH, CLIENTS - i) }, () => connect(url, state)))
    for (const r of batch) if (r.status === 'fulfilled') clients.push(r.value)
  }
  const connectMs = Math.round(performance.now() - started)

  // what each worker holds: ask one client of each
  const byPid = new Map()
  for (const c of clients) if (!byPid.has(c.pid)) byPid.set(c.pid, c)
  const workers = []
  for (const c of byPid.values()) workers.push(await c.socket.timeout(5000).emitWithAck('stats'))
  workers.sort((a, b) => b.sockets - a.sockets)

  const publisher = clients[0].socket
  for (let seq = 0; seq < BROADCASTS; seq++) {
    state.received[seq] = 0
    state.sent[seq] = performance.now()
    await publisher.timeout(5000).emitWithAck('publish', seq)
    const deadline = Date.now() + 5000
    while (state.received[seq] < clients.length && Date.now() < deadline) await sleep(5)
    await sleep(20)
  }
  state.closing = true
  for (const c of clients) c.socket.disconnect()

  const sorted = state.latencies.sort((a, b) => a - b)
  return {
    connected: clients.length,
    connectMs,
    heldPerWorker: workers.map((w) => w.sockets),
    rssMbPerWorker: workers.map((w) => Math.round(w.rss / 1048576)),
    p50: round2(percentile(sorted, 0.5)),
    p99: round2(percentile(sorted, 0.99)),
    max: round2(sorted.at(-1) ?? null),
    delivered: state.latencies.length,
    expected: BROADCASTS * clients.length,
    errors: state.errors.length,
    firstErrors: state.errors.slice(0, 3)
  }
}

const names = (process.env.REALTIME_ONLY ?? 'corral,anchor').split(',')
const runs = Object.fromEntries(names.map((n) => [n, []]))
for (let round = 0; round < ROUNDS; round++) {
  // alternate the order: a machine that warms up or gets busier favours no one
  for (const name of round % 2 === 0 ? names : [...names].reverse()) {
    const r = await withNode(app(contenders[name].file), {}, (port) => measure(port))
    runs[name].push(r)
    console.log(`${name} round ${round + 1}: ${JSON.stringify(r)}`)
  }
}

const mean = (list, field) => round2(list.reduce((sum, r) => sum + (r[field] ?? 0), 0) / list.length)
const summary = Object.fromEntries(Object.entries(runs).map(([name, list]) => [name, {
  connectMs: Math.round(mean(list, 'connectMs')),
  heldPerWorker: list.map((r) => r.heldPerWorker.join('/')).join(' '),
  rssMbPerWorker: list.map((r) => r.rssMbPerWorker.join('/')).join(' '),
  p50: mean(list, 'p50'),
  p99: mean(list, 'p99'),
  delivered: list.reduce((s, r) => s + r.delivered, 0),
  expected: list.reduce((s, r) => s + r.expected, 0),
  errors: list.reduce((s, r) => s + r.errors, 0)
}]))
const ratio = (a, b) => b ? Math.round((a / b) * 100) / 100 : null
const ratios = {}
if (names.length > 1) {
  for (const field of ['p50', 'p99', 'connectMs']) ratios[field] = ratio(summary.corral[field], summary.anchor[field])
}

printTable(`${CLIENTS} Socket.IO clients over ${WORKERS} workers, ${BROADCASTS} broadcasts each round, mean of ${ROUNDS} rounds, Node ${process.versions.node}`, Object.entries(summary).map(([name, s]) => ({
  contender: contenders[name].label,
  'connect all ms': s.connectMs,
  'held per worker': s.heldPerWorker,
  'worker RSS MB': s.rssMbPerWorker,
  'fan-out p50 ms': s.p50,
  'fan-out p99 ms': s.p99,
  delivered: `${s.delivered}/${s.expected}`,
  errors: s.errors
})))
if (names.length > 1) console.log(`\nCorral / anchor: fan-out p50 ${ratios.p50}x, p99 ${ratios.p99}x, connect ${ratios.connectMs}x (below 1: Corral faster)`)

writeResults('realtime', { workers: WORKERS, clients: CLIENTS, broadcasts: BROADCASTS, rounds: ROUNDS, contenders: Object.fromEntries(Object.entries(contenders).map(([k, v]) => [k, v.label])), summary, ratios, runs })
process.exit(0)
