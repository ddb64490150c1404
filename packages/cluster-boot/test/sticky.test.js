import http from 'node:http'
import { test } from 'tap'
import { stickySlot } from '@corral/cluster-boot'
import { spawnNode, waitFor } from '../../../test/helpers/index.js'
import { fixture, startCluster } from './fixtures/cluster.js'

/** One GET on a new connection from `localAddress`. */
function getFrom (port, localAddress, path = '/') {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false, localAddress }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(body) }))
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

test('a key hashes to the same slot every time, and IPv4-mapped addresses count as IPv4', async (t) => {
  t.equal(stickySlot('127.0.0.1', 2), stickySlot('127.0.0.1', 2))
  t.equal(stickySlot('::ffff:10.1.2.3', 4), stickySlot('10.1.2.3', 4))
  const seen = new Set()
  for (let i = 1; i < 50; i++) seen.add(stickySlot(`10.0.0.${i}`, 4))
  t.equal(seen.size, 4, 'addresses spread over every slot')
})

test("scheduling 'sticky': every new connection from one client address reaches the same worker, its own slot's", async (t) => {
  const { port, proc } = await startCluster(t, { opts: STICKY })
  t.equal(proc.lines.find((l) => l.msg === 'starting workers').scheduling, 'sticky')
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
  t.ok(Object.keys(result.pids).length >= 4, 'answered by old and new workers of both slots')
  t.equal(last.filter((p) => first.includes(p)).length, 0, 'every worker replaced')
})
