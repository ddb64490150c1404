import http from 'node:http'
import net from 'node:net'
import { test, type Test } from 'tap'
import { io, type Socket } from 'socket.io-client'
import { slotFromSid, stickySid } from '@corral/cluster-boot'
// the resolved options and the slot hashes are below the entry point: checked here as units
import { resolveOptions } from '../dist/options.js'
import { keySlot, stickySlot } from '../dist/primary/sticky-balancer.js'
import { freePort, spawnNode } from '@corral/test-helpers'
import { fixture } from './fixtures/cluster.js'

interface Answer { status: number, body: { pid: number, slot: number, body?: unknown } }
type Started = { port: number, proc: ReturnType<typeof spawnNode> }

/** test/fixtures/sticky-app.mjs (Fastify + Socket.IO, 2 workers) with these boot options. */
async function startSticky (t: Test, opts: object, env: Record<string, string> = {}): Promise<Started> {
  const port = await freePort()
  const proc = spawnNode(fixture('sticky-app.mjs'), { env: { PORT: String(port), FIXTURE_OPTS: JSON.stringify(opts), ...env } })
  t.teardown(() => proc.stop('SIGTERM'))
  await proc.waitForLine((l: { msg?: string }) => l.msg === 'all workers ready', 20_000)
  return { port, proc }
}

/** One request on a new connection. */
function send (port: number, path: string, { method = 'GET', headers = {}, body }: { method?: string, headers?: Record<string, string>, body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Raw bytes on a new connection; resolves with everything the server answered before closing. */
function raw (port: number, write: (socket: net.Socket) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let text = ''
    socket.setEncoding('latin1')
    socket.on('data', (c) => { text += c })
    socket.on('error', reject)
    socket.on('close', () => resolve(text))
    socket.on('connect', () => write(socket))
  })
}

/** `clients` Socket.IO clients on long-polling only, `trips` acknowledged round trips each; counts every failure. */
async function pollingClients (port: number, clients: number, trips: number): Promise<{ errors: string[], slots: Map<number, number> }> {
  const errors: string[] = []
  const slots = new Map<number, number>()
  const one = async (): Promise<void> => {
    // no agent: every poll is a new connection, so each one is routed by its sid
    const socket: Socket = io(`http://127.0.0.1:${port}`, { transports: ['polling'], forceNew: true, reconnection: false, timeout: 10_000 })
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve)
        socket.once('connect_error', reject)
      })
      let slot: number | undefined
      for (let n = 0; n < trips; n++) {
        const answer = await socket.timeout(10_000).emitWithAck('echo', n) as { n: number, slot: number }
        if (answer.n !== n) errors.push(`answer ${answer.n} for ${n}`)
        if (slot !== undefined && answer.slot !== slot) errors.push(`slot ${answer.slot} after ${slot}`)
        slot = answer.slot
      }
      if (!socket.connected) errors.push('disconnected')
      if (slot !== undefined) slots.set(slot, (slots.get(slot) ?? 0) + 1)
    } catch (err) {
      errors.push((err as Error).message)
    } finally {
      socket.disconnect()
    }
  }
  await Promise.all(Array.from({ length: clients }, one))
  return { errors, slots }
}

test("sticky.key is 'ip', 'sid' or { cookie }, trustProxy a count of hops; anything else is refused by name", async (t) => {
  const app = (): never => { throw new Error('not built') }
  t.same(resolveOptions({ app, sticky: { key: 'sid' } }).sticky, { key: 'sid', trustProxy: 0 })
  t.same(resolveOptions({ app, sticky: { key: { cookie: 'sess' }, trustProxy: true } }).sticky, { key: { cookie: 'sess' }, trustProxy: 1 })
  t.same(resolveOptions({ app, sticky: { trustProxy: 2 } }).sticky, { key: 'ip', trustProxy: 2 })
  const refused = (sticky: unknown, name: string): void => {
    t.throws(() => resolveOptions({ app, sticky } as never), { code: 'CORRAL_INVALID_OPTION', message: new RegExp(`"${name.replace('.', '\\.')}"`) }, JSON.stringify(sticky))
  }
  refused({ key: 'cookie' }, 'sticky.key')
  refused({ key: { cookie: '' } }, 'sticky.key')
  refused({ key: { cookie: 'a b' } }, 'sticky.key')
  refused({ key: { header: 'x' } }, 'sticky.key')
  refused({ key: 'sid', trustProxy: -1 }, 'sticky.trustProxy')
  refused({ key: 'sid', trustProxy: 'yes' }, 'sticky.trustProxy')
})

test('a stickySid() names its slot; any other id hashes to a slot, the same every time', async (t) => {
  for (const slot of [0, 1, 7, 35, 1000]) {
    const sid = stickySid(slot)
    t.equal(slotFromSid(sid), slot)
    t.match(sid, /^[0-9a-z]+\.[A-Za-z0-9_-]{20}$/, 'URL- and cookie-safe')
    if (slot < 8) t.equal(keySlot(sid, 8), slot)
  }
  t.not(stickySid(1), stickySid(1), 'random')
  t.equal(slotFromSid('hVd8t9sa5PZ2tZQ2AAAB'), undefined, "Socket.IO's own sid names no slot")
  t.equal(keySlot('hVd8t9sa5PZ2tZQ2AAAB', 4), keySlot('hVd8t9sa5PZ2tZQ2AAAB', 4))
  const beyond = stickySid(5)
  t.equal(keySlot(beyond, 2), stickySlot(beyond, 2), 'a slot beyond the workers: hashed like any other value')
  t.match(stickySid(Number.NaN), /^[A-Za-z0-9_-]{20}$/, 'outside a worker: random only')
})

test("key 'sid': 200 Socket.IO clients on long-polling from one address, 20 round trips each, 0 errors, spread over both workers", async (t) => {
  const { port } = await startSticky(t, { sticky: { key: 'sid' } })
  const { errors, slots } = await pollingClients(port, 200, 20)
  t.same(errors, [], 'no failed connection or round trip')
  t.equal([...slots.values()].reduce((a, b) => a + b, 0), 200, 'every client finished')
  t.same([...slots.keys()].sort(), [0, 1], `both workers got clients (${JSON.stringify(Object.fromEntries(slots))})`)
})

test("key 'sid': clients that upgrade to WebSocket keep their worker: the upgrade request carries the sid", async (t) => {
  const { port } = await startSticky(t, { sticky: { key: 'sid' } })
  const results = await Promise.all(Array.from({ length: 20 }, async () => {
    const socket: Socket = io(`http://127.0.0.1:${port}`, { forceNew: true, reconnection: false })
    try {
      await new Promise<void>((resolve) => socket.io.engine.once('upgrade', () => resolve()))
      const slots = new Set<number>()
      for (let n = 0; n < 5; n++) slots.add((await socket.timeout(10_000).emitWithAck('echo', n) as { slot: number }).slot)
      return { transport: socket.io.engine.transport.name, slots: [...slots], sidSlot: slotFromSid(socket.io.engine.id) }
    } finally {
      socket.disconnect()
    }
  }))
  for (const r of results) {
    t.equal(r.transport, 'websocket')
    t.same(r.slots, [r.sidSlot], 'every answer from the slot that issued the sid')
  }
  t.same([...new Set(results.map((r) => r.sidSlot))].sort(), [0, 1], 'handshakes spread over both workers')
})

test("with 'rr' the same long-polling clients fail: their polls reach a worker that did not issue the sid", async (t) => {
  const { port } = await startSticky(t, { scheduling: 'rr' })
  const { errors } = await pollingClients(port, 20, 5)
  t.ok(errors.length > 0, `${errors.length} of 20 clients failed (${errors[0]})`)
})

test("key { cookie }: a stickySid() value in the cookie reaches its slot, another value its hash's, none the address's", async (t) => {
  const { port } = await startSticky(t, { sticky: { key: { cookie: 'sess' } } })
  for (const slot of [0, 1]) {
    for (let i = 0; i < 5; i++) {
      const res = await send(port, '/', { headers: { cookie: `theme=dark; sess=${stickySid(slot)}; x=1` } })
      t.equal(res.body.slot, slot, `cookie naming slot ${slot}`)
    }
  }
  for (const value of ['alice', 'bob', 'carol', 'dave']) {
    const res = await send(port, '/', { headers: { cookie: `sess=${value}` } })
    t.equal(res.body.slot, keySlot(value, 2), `cookie ${value}: its hash's slot`)
  }
  t.equal((await send(port, '/', { headers: { cookie: 'other=1' } })).body.slot, stickySlot('127.0.0.1', 2), 'no such cookie: the address')
})

test('a POST whose body arrives after the head reaches the worker whole: the primary replays what it read', async (t) => {
  const { port } = await startSticky(t, { sticky: { key: { cookie: 'sess' } } })
  const body = JSON.stringify({ text: 'x'.repeat(100_000) })
  const answer = await raw(port, (socket) => {
    socket.write(`POST /echo HTTP/1.1\r\nHost: x\r\nCookie: sess=${stickySid(1)}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`)
    setTimeout(() => socket.write(body.slice(0, 10)), 50)
    setTimeout(() => socket.end(body.slice(10)), 150)
  })
  t.match(answer, /^HTTP\/1\.1 200/)
  const parsed = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { slot: number, body: { text: string } }
  t.equal(parsed.slot, 1)
  t.equal(parsed.body.text.length, 100_000)
})

test('trustProxy: the address is X-Forwarded-For\'s entry its proxy added; without it the header is ignored', async (t) => {
  const perSlot = new Map<number, string>()
  for (let i = 1; perSlot.size < 2; i++) if (!perSlot.has(stickySlot(`10.0.0.${i}`, 2))) perSlot.set(stickySlot(`10.0.0.${i}`, 2), `10.0.0.${i}`)
  const trusted = await startSticky(t, { sticky: { trustProxy: 1 } })
  for (const [slot, address] of perSlot) {
    t.equal((await send(trusted.port, '/', { headers: { 'x-forwarded-for': `203.0.113.9, ${address}` } })).body.slot, slot, `${address} on slot ${slot}`)
  }
  const plain = await startSticky(t, {})
  for (const address of perSlot.values()) {
    t.equal((await send(plain.port, '/', { headers: { 'x-forwarded-for': address } })).body.slot, stickySlot('127.0.0.1', 2), 'the socket address')
  }
})

test('a first request that is too slow, too large, not HTTP or cut short is routed by address or dropped; the primary keeps serving', async (t) => {
  const { port, proc } = await startSticky(t, { sticky: { key: 'sid' } })
  // no line end within the time bound: the worker's parser gets what came and answers
  const slow = await raw(port, (socket) => { socket.write('GET /?sid=1.abc'); setTimeout(() => socket.end(' HTTP/1.1\r\nHost: x\r\n\r\n'), 1500) })
  t.match(slow, /^HTTP\/1\.1 200/, 'a slow request line still answered')
  const large = await raw(port, (socket) => { socket.end(`GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`) })
  t.match(large, /^HTTP\/1\.1 (404|414|431)/, 'a head beyond the bound answered by the worker')
  const garbage = await raw(port, (socket) => { socket.end('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n') })
  t.match(garbage, /^(HTTP\/1\.1 400|$)/, 'not HTTP: refused by the worker, or closed')
  await raw(port, (socket) => { socket.write('GET /?si'); setTimeout(() => socket.destroy(), 50) })
  await raw(port, (socket) => { socket.resetAndDestroy() })
  const res = await send(port, '/')
  t.equal(res.status, 200, 'still serving')
  t.equal(proc.lines.filter((l: { level?: number }) => (l.level ?? 0) >= 50).length, 0, 'nothing fatal logged')
  t.equal(proc.child.exitCode, null, 'the primary is alive')
})
