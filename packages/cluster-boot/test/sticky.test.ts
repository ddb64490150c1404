import http from 'node:http'
import { test } from 'tap'
import type { AppFactory } from '@corral/cluster-boot'
import { resolveOptions } from '../dist/options.js'
import { stickySlot } from '../dist/primary/sticky-balancer.js'
import { spawnNode, waitFor } from '@corral/test-helpers'
import { fixture, startCluster } from './fixtures/cluster.js'

/** One GET on a new connection from `localAddress`. */
function getFrom (port: number, localAddress: string, path = '/'): Promise<{ status: number, body: any }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false, localAddress }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode as number, body: JSON.parse(body) }))
    }).on('error', reject)
  })
}

/** Two loopback source addresses whose keys hash to different slots of two. */
function addressesPerSlot (slots = 2) {
  const found = new Map()
  for (let i = 1; found.size < slots; i++) {
    const address = `127.0.0.${i}`
    const slot = stickySlot(address, slots)
    if (!found.has(slot)) found.set(slot, address)
  }
  return found
}

const STICKY = { scheduling: 'sticky' }

test("'sticky' is a scheduling, routed by { key: 'ip' } unless told otherwise; a bad sticky option is refused by name", async (t) => {
  // never called: resolveOptions only checks that app is a function
  const app = (() => null) as unknown as AppFactory
  t.same(resolveOptions({ app, scheduling: 'sticky' }).sticky, { key: 'ip', trustProxy: 0 })
  t.same(resolveOptions({ app, scheduling: 'sticky', sticky: { key: 'ip' } }).sticky, { key: 'ip', trustProxy: 0 })
  // @ts-expect-error wrong on purpose
  t.throws(() => resolveOptions({ app, sticky: 'ip' }), { code: 'CORRAL_INVALID_OPTION', message: /"sticky"/ })
  // @ts-expect-error wrong on purpose
  t.throws(() => resolveOptions({ app, sticky: { key: 'header' } }), { code: 'CORRAL_INVALID_OPTION', message: /"sticky\.key"/ })
})

test('a key hashes to the same slot every time, and IPv4-mapped addresses count as IPv4', async (t) => {
  t.equal(stickySlot('127.0.0.1', 2), stickySlot('127.0.0.1', 2))
  t.equal(stickySlot('::ffff:10.1.2.3', 4), stickySlot('10.1.2.3', 4))
  const seen = new Set()
  for (let i = 1; i < 50; i++) seen.add(stickySlot(`10.0.0.${i}`, 4))
  t.equal(seen.size, 4, 'addresses spread over every slot')
})

test("scheduling 'sticky': every new connection from one client address reaches the same worker, its own slot's", async (t) => {
  const { port, proc } = await startCluster(t, { opts: STICKY })
  t.equal(proc.lines.find((l) => l.msg === 'starting workers')?.scheduling, 'sticky')
  for (const [slot, address] of addressesPerSlot()) {
    const pids = new Set()
    const slots = new Set()
    for (let i = 0; i < 50; i++) {
      const res = await getFrom(port, address)
      t.equal(res.status, 200)
      pids.add(res.body.pid)
      slots.add(res.body.slot)
    }
    t.equal(pids.size, 1, `${address}: 50 connections, one worker`)
    t.same([...slots], [slot], `${address}: the slot its key hashes to (${slot})`)
  }
})

test("a SIGKILLed worker's keys go to a live worker, and come back to the slot once it is respawned", async (t) => {
  const { port, proc, admin } = await startCluster(t, { opts: { ...STICKY, restartDelay: 1500 } })
  const perSlot = addressesPerSlot()
  const address = perSlot.get(0)
  const before = await getFrom(port, address)
  t.equal(before.body.slot, 0)

  process.kill(before.body.pid, 'SIGKILL')
  await proc.waitForLine((l) => l.msg === 'worker died' && l.pid === before.body.pid, 10_000)
  // respawn is 1.5 s away: meanwhile slot 0's keys are served by slot 1
  for (let i = 0; i < 10; i++) {
    const res = await getFrom(port, address)
    t.equal(res.status, 200)
    if (res.body.slot !== 1) t.fail(`a moved key answered by slot ${res.body.slot}`)
  }
  t.pass("slot 0's key served by slot 1 while slot 0 is down")

  await waitFor(async () => (await admin('/supervisor')).body.workers.some((w) => w.slot === 0 && w.state === 'ready' && w.pid !== before.body.pid), { timeout: 20_000, message: 'slot 0 respawned' })
  const after = await getFrom(port, address)
  t.equal(after.body.slot, 0, 'back on its slot')
  t.not(after.body.pid, before.body.pid, 'on the new worker')
  t.equal((await getFrom(port, perSlot.get(1))).body.slot, 1, 'the other key never moved')
})

test("two rolling reloads under new-connection load fail no request under 'sticky'", async (t) => {
  const { port, proc, admin } = await startCluster(t, { opts: STICKY })
  const first = (await admin('/supervisor')).body.workers.map((w) => w.pid)
  const load = spawnNode(fixture('sticky-load.mjs'), { args: [`http://127.0.0.1:${port}/`, '8', '16'] })
  t.teardown(() => load.stop('SIGKILL'))
  await new Promise((resolve) => setTimeout(resolve, 1000))

  proc.child.kill('SIGHUP')
  await proc.waitForLine((l) => l.msg === 'rolling reload done', 20_000)
  proc.child.kill('SIGHUP')
  await waitFor(() => proc.lines.filter((l) => l.msg === 'rolling reload done').length === 2, { timeout: 20_000, message: 'the second reload' })
  const last = (await admin('/supervisor')).body.workers.map((w) => w.pid)

  const result = await load.waitForLine((l) => l.requests !== undefined, 30_000)
  t.ok(result.requests > 100, `the load ran (${result.requests} requests)`)
  t.equal(result.errors, 0, `no failed connections (${result.failures.join(', ')})`)
  t.equal(result.non2xx, 0, 'no non-2xx answers')
  // the load lasts a fixed time and a reload under a busy machine does not: which replacements it reached varies,
  // so that the replacements serve is checked below, from both slots' addresses
  t.ok(Object.keys(result.pids).length >= 2, `answered by the workers of both slots (${JSON.stringify(result.pids)})`)
  for (const [slot, address] of addressesPerSlot()) {
    const res = await getFrom(port, address)
    t.equal(res.body.slot, slot)
    t.ok(last.includes(res.body.pid), `slot ${slot} served by its newest worker after the reloads`)
  }
  t.equal(last.filter((p) => first.includes(p)).length, 0, 'every worker replaced')
})

test("a slow request on a handed-over connection finishes before its worker exits in a reload under 'sticky'", async (t) => {
  const { port, admin, proc } = await startCluster(t, { opts: STICKY })
  const address = addressesPerSlot().get(0)
  const slow = getFrom(port, address, '/slow?ms=2000')
  await proc.waitForLine((l) => l.fixture && l.event === 'slow request')
  const reload = admin('/reload', { method: 'POST' })
  const res = await slow
  t.equal(res.status, 200, 'answered')
  t.equal(res.body.slow, true)
  t.match((await reload).body, { ok: true, replaced: [0, 1] })
  const now = await getFrom(port, address)
  t.not(now.body.pid, res.body.pid, 'new connections reach the new worker')
  t.equal(now.body.slot, 0)
})

test("under 'sticky', connections made before any worker is ready wait for one, and no answer comes from a worker not ready", async (t) => {
  const { port, proc } = await startCluster(t, { opts: STICKY, env: { FIXTURE_READY_DELAY: '1500' }, waitReady: false })
  await proc.waitForLine((l) => l.msg === 'starting workers', 20_000)
  await waitFor(async () => {
    try { return (await getFrom(port, '127.0.0.1', '/readiness')).status === 200 } catch { return false }
  }, { timeout: 20_000, message: 'the balancer to accept' })
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => getFrom(port, `127.0.0.${1 + (i % 4)}`, '/readiness')))
  t.equal(answers.filter((a) => a.body.ready !== true).length, 0, 'every answer from a ready worker')
  // the first ready worker may have answered for both slots: once both are ready, each key is home
  await proc.waitForLine((l) => l.msg === 'all workers ready', 20_000)
  for (const [slot, address] of addressesPerSlot()) t.equal((await getFrom(port, address, '/readiness')).body.slot, slot, `${address} on slot ${slot}`)
})
