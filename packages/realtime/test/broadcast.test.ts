// A broadcast published on one worker reaches the WebSocket clients of every
// worker (over fastify.bus: the primary here) and of every host (over Redis).
import { test } from 'tap'
import { cleanRedis, closeAll, freePort, hellos, REDIS_URL, sioClient, startCluster, uniquePrefix, waitFor, wsClients, type WsClient } from './helpers.js'

const CLIENTS = 500

async function everyoneGets (clients: WsClient[], text: string): Promise<number> {
  await waitFor(() => clients.every((c) => c.messages.some((m) => m.data?.text === text)), { timeout: 20_000, message: `every client to get "${text}"` })
  return clients.filter((c) => c.messages.filter((m) => m.channel === 'news' && m.data?.text === text).length === 1).length
}

test(`${CLIENTS} WebSocket clients spread over 2 workers all get a broadcast published on one`, async (t) => {
  const cluster = await startCluster(t)
  const clients = await wsClients(cluster.port, CLIENTS)
  t.teardown(() => closeAll(clients))
  const bySlot = [0, 1].map((slot) => clients.filter((c) => c.slot === slot).length)
  t.ok(bySlot.every((n) => n > 0), `spread over both workers: ${bySlot.join(' + ')}`)

  const res = await cluster.broadcast({ text: 'one machine' })
  t.equal(res.status, 200)
  t.equal(await everyoneGets(clients, 'one machine'), CLIENTS, `all ${CLIENTS} got it, once`)

  // the primary drops the cluster adapter's IPC messages without a word
  t.notOk(cluster.lines.some((l) => l.level !== undefined && (l.level as number) >= 40), 'no warning or error in the log')
})

test(`${CLIENTS} WebSocket clients on 2 hosts sharing a Redis all get a broadcast published on one host; Socket.IO clients too`, async (t) => {
  const prefix = uniquePrefix()
  t.teardown(() => cleanRedis(prefix))
  const env = { REDIS_URL, PREFIX: prefix, WORKERS: '1' }
  const [a, b] = await Promise.all([
    startCluster(t, { ...env, HOST: '127.0.0.1' }),
    startCluster(t, { ...env, HOST: '127.0.0.2', PORT: String(await freePort()) })
  ])
  const clients = [
    ...await wsClients(a.port, CLIENTS / 2, { host: '127.0.0.1' }),
    ...await wsClients(b.port, CLIENTS / 2, { host: '127.0.0.2' })
  ]
  t.teardown(() => closeAll(clients))
  const sio = [
    ...Array.from({ length: 10 }, () => sioClient(a.port, { host: '127.0.0.1', transports: ['websocket'] })),
    ...Array.from({ length: 10 }, () => sioClient(b.port, { host: '127.0.0.2', transports: ['websocket'] }))
  ]
  t.teardown(() => closeAll(sio))
  await Promise.all(sio.map((c) => hellos(c)))
  t.equal(new Set(clients.map((c) => c.pid)).size, 2, 'the clients are on two hosts')

  const res = await a.broadcast({ text: 'every host' })
  t.equal(res.status, 200)
  t.equal(await everyoneGets(clients, 'every host'), CLIENTS, `all ${CLIENTS} got it, once`)
  await waitFor(() => sio.every((c) => c.news.length > 0), { timeout: 20_000, message: 'every Socket.IO client to get it' })
  t.equal(sio.filter((c) => c.news.length === 1 && c.news[0].text === 'every host').length, sio.length, 'every Socket.IO client got it once, through the Redis streams adapter')
})
