import t from 'tap'
import Fastify from 'fastify'
import { redisSession } from '@corral/redis-session'
import { assertDecorated, freePort, request, spawnNode } from '@corral/test-helpers'
import { MemorySessionBackend } from '../dist/session/memory-backend.js'
import { SECRET } from './fixtures/session-app.js'

function collector () {
  const lines: any[] = []
  return { lines, warn: (fields, msg?) => { lines.push({ ...fields, msg }) } }
}

t.test('the embedded session store is bounded by bytes: least recently used evicted, counted, logged once', async (t) => {
  const log = collector()
  const backend = new MemorySessionBackend({ maxSessions: 1000, maxBytes: 50_000, log })
  t.teardown(() => backend.close())
  const big = JSON.stringify({ pad: 'x'.repeat(5_000) })
  for (let i = 0; i < 20; i++) await backend.set(`s${i}`, big, 60_000, 'create', 'alice')
  t.ok(backend.bytes <= 50_000, `${backend.bytes} bytes held`)
  t.ok(backend.size < 20, `${backend.size} sessions kept`)
  t.equal(backend.evictions, 20 - backend.size, 'every eviction counted')
  t.equal(await backend.get('s0', 60_000), null, 'the oldest went first')
  t.ok(await backend.get('s19', 60_000), 'the newest stays')
  t.equal(log.lines.length, 1, 'logged once, when eviction started')
  t.match(log.lines[0].msg, /evicting/)
  const kept = backend.size
  t.equal(await backend.destroyAll('alice'), kept, 'evicted sessions left the index')
  t.equal(backend.bytes, 0, 'bytes follow removals')
})

t.test('the in-process store and cache take maxBytes and cache.maxBytes, and show their counters', async (t) => {
  const logs: any[] = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (l) => logs.push(JSON.parse(l)) } } })
  await app.register(redisSession, { secret: SECRET, bus: false, maxBytes: 100_000, cache: { maxBytes: 30_000 } })
  assertDecorated(app, 'cache')
  t.teardown(() => app.close())
  for (let i = 0; i < 10; i++) await app.cache.set(`k${i}`, 'y'.repeat(5_000))
  t.equal(await app.cache.get('k0'), undefined, 'the oldest value went')
  t.equal(await app.cache.get('k9'), 'y'.repeat(5_000))
  t.equal(logs.filter((l) => l.msg.includes('embedded cache full')).length, 1, 'logged once')
  const { sessions, cache } = app.sessions.embedded!
  t.equal(sessions.maxBytes, 100_000, 'the session bound, for metrics')
  t.equal(cache!.maxBytes, 30_000)
  t.ok(cache!.evictions > 0 && cache!.bytes <= 30_000, `${cache!.evictions} cache evictions, ${cache!.bytes} bytes`)
})

t.test('the primary bounds its workers\' sessions and cache by bytes and shows the evictions', async (t) => {
  const port = await freePort()
  const adminPort = await freePort()
  const proc = spawnNode(new URL('./fixtures/session-cluster.mjs', import.meta.url).pathname, {
    env: { PORT: String(port), ADMIN_PORT: String(adminPort), MAX_BYTES: '200000' }
  })
  t.teardown(() => proc.stop())
  await proc.waitForLine((l) => l.msg === 'all workers ready', 60_000)
  // 2 x 40 values of ~20 kB (40 kB in memory) into a 200 kB bound
  const fills = await Promise.all([0, 1].map(() => request(`http://127.0.0.1:${port}/fill?n=40&size=10000`, { method: 'POST' })))
  t.ok(fills.every((r) => r.status === 200))
  const stats = (await request(`http://127.0.0.1:${adminPort}/embedded-stats`)).body
  for (const kind of ['sessions', 'cache']) {
    t.equal(stats[kind].maxBytes, 200_000, `${kind}: the bound`)
    t.ok(stats[kind].bytes <= 200_000, `${kind}: ${stats[kind].bytes} bytes held`)
    t.ok(stats[kind].evictions > 0, `${kind}: ${stats[kind].evictions} evictions counted`)
  }
  // the primary's output arrives through a pipe: wait for it
  await proc.waitForLine((l) => /session store full/.test(l.msg))
  await proc.waitForLine((l) => /cache full/.test(l.msg))
  t.equal(proc.lines.filter((l) => /session store full/.test(l.msg)).length, 1, 'sessions: logged once')
  t.equal(proc.lines.filter((l) => /cache full/.test(l.msg)).length, 1, 'cache: logged once')
})
