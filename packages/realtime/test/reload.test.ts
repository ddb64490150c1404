// A rolling reload with 200 clients connected: the WebSocket clients hear
// 1001 Going Away and connect again (to a worker that stays); the Socket.IO
// clients reconnect and recover their session from the Redis stream, so no
// message published during the reload is missed, and none comes twice.
import { test } from 'tap'
import { cleanRedis, closeAll, hellos, REDIS_URL, sioClient, sleep, startCluster, uniquePrefix, waitFor, wsClients } from './helpers.js'

const WS_CLIENTS = 100
const SIO_CLIENTS = 100

test(`a rolling reload with ${WS_CLIENTS + SIO_CLIENTS} clients: WebSockets closed with 1001 and connected again, Socket.IO clients miss no message`, async (t) => {
  const prefix = uniquePrefix()
  t.teardown(() => cleanRedis(prefix))
  const cluster = await startCluster(t, { REDIS_URL, PREFIX: prefix })
  const ws = await wsClients(cluster.port, WS_CLIENTS, { reconnect: true })
  t.teardown(() => closeAll(ws))
  const sio = Array.from({ length: SIO_CLIENTS }, () => sioClient(cluster.port, { transports: ['websocket'] }))
  t.teardown(() => closeAll(sio))
  // the offset (stream id) each event carries, in the order each client got them: what a client resumes from
  const offsets = sio.map((c) => {
    const seen: string[] = []
    c.socket.onAny((...args: unknown[]) => { if (typeof args.at(-1) === 'string') seen.push(args.at(-1) as string) })
    return seen
  })
  await Promise.all(sio.map((c) => hellos(c)))
  t.same(new Set([...ws, ...sio].map((c) => c.slot)), new Set([0, 1]), 'the clients are on both workers')

  // one message every 20 ms, before, during and after the reload; only those the app accepted count
  const published: number[] = []
  const run = { publishing: true }
  t.teardown(() => { run.publishing = false })
  const publisher = (async () => {
    for (let seq = 0; run.publishing; seq++) {
      try {
        const res = await cluster.broadcast({ seq })
        if (res.status === 200) published.push(seq)
      } catch {}
      await sleep(20)
    }
  })()
  await sleep(300)
  const reload = await cluster.admin('/reload', { method: 'POST' })
  t.match(reload.body, { ok: true, replaced: [0, 1] }, 'both workers replaced', { body: reload.body })
  const reloadedAt = Date.now()

  // a bound on the wait, not a timing assertion: every client is back within 5 s
  await waitFor(() => ws.every((c) => c.socket.readyState === c.socket.OPEN && c.connects === c.closes.length + 1), { timeout: 5000, message: 'every WebSocket client connected again' })
  await waitFor(() => sio.every((c) => c.socket.connected && c.hellos.length >= 2), { timeout: 5000, message: 'every Socket.IO client connected again' })
  await sleep(300)
  run.publishing = false
  await publisher

  t.same([...new Set(ws.flatMap((c) => c.closes))], [1001], 'every WebSocket connection was closed with 1001 Going Away')
  t.ok(ws.every((c) => c.closes.length >= 1), 'every WebSocket client was sent away (no worker stayed)')
  const pids = new Set((await cluster.workers()).map((w) => w.pid))
  t.ok(ws.every((c) => pids.has(c.pid as number)), 'every WebSocket client is on a new worker')
  t.comment(`reconnects refused by a draining worker: ${ws.reduce((n, c) => n + c.refused, 0)}; slowest WebSocket reconnect after the reload: ${Math.max(0, ...ws.map((c) => (c.reconnectedAt ?? 0) - reloadedAt))} ms`)

  t.ok(published.length > 20, `${published.length} messages published`)
  t.ok(sio.every((c) => c.hellos.slice(1).every((h) => h.recovered)), 'every Socket.IO reconnection recovered its session')
  const missingNow = (): number[] => sio.map((c) => {
    const got = new Set(c.news.map((n) => n.seq))
    return published.filter((seq) => !got.has(seq)).length
  })
  // the last ones may still be on their way to the other worker's clients
  await waitFor(() => missingNow().every((n) => n === 0), { timeout: 5000, message: 'every message delivered' }).catch(() => {})
  const missing = missingNow()
  if (missing.some((n) => n > 0)) {
    for (const c of sio.filter((_, i) => missing[i] > 0).slice(0, 3)) {
      const got = new Set(c.news.map((n) => n.seq))
      const lost = published.filter((seq) => !got.has(seq))
      t.comment(JSON.stringify({ missing: lost, hellos: c.hellos, around: c.news.map((n) => n.seq).filter((seq) => Math.abs(seq - lost[0]) < 6) }))
    }
  }
  const lost = missing.reduce((a, b) => a + b, 0)
  t.equal(lost, 0, 'no Socket.IO client missed a message', { clientsMissing: missing.filter((n) => n > 0).length })
  const twice = sio.filter((c) => c.news.length !== new Set(c.news.map((n) => n.seq)).size).length
  t.equal(twice, 0, 'and none got one twice')
  // a client resumes after the last offset it got: that holds only if each got its events in stream order
  const byId = (a: string, b: string): number => { const [am, as] = a.split('-').map(Number); const [bm, bs] = b.split('-').map(Number); return am - bm || as - bs }
  t.ok(offsets.every((seen) => seen.every((id, i) => i === 0 || byId(seen[i - 1], id) < 0)), 'every Socket.IO client got its events in stream order')
  t.same(sio.flatMap((c) => c.errors.filter((e) => !e.startsWith('disconnect: transport close'))), [], 'the only disconnects were the transport closes of the reload')
})
