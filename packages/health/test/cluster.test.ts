import t from 'tap'
import { rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Fastify from 'fastify'
import { healthAggregator } from '@corral/health'
import { freePort, request, spawnNode, waitFor } from '@corral/test-helpers'

const fixture = new URL('./fixtures/cluster.mjs', import.meta.url).pathname

t.test('the primary serves the machine view; a replacement that fails its check is not counted ready', async (t) => {
  const flag = path.join(os.tmpdir(), `corral-health-flag-${process.pid}`)
  t.teardown(() => rmSync(flag, { force: true }))
  const [port, adminPort] = [await freePort(), await freePort()]
  const proc = spawnNode(fixture, { env: { PORT: String(port), ADMIN_PORT: String(adminPort), FLAG: flag } })
  t.teardown(() => proc.stop())
  // readyTimeout is cluster-boot's default (15 s): a loaded machine starts its workers in time
  await proc.waitForLine((l) => l.msg === 'all workers ready', 30_000)
  const admin = `http://127.0.0.1:${adminPort}/health`

  const view = await waitFor(async () => {
    const res = await request(admin)
    return res.body.workers?.length === 2 && res
  }, { message: 'two workers reported' })
  t.equal(view.status, 200)
  t.match(view.headers['content-type'], /application\/health\+json/)
  t.equal(view.body.status, 'pass')
  t.same(view.body.workers.map((w) => [w.slot, w.ready]), [[0, true], [1, true]])
  t.match(view.body.checks['workers:ready'][0], { observedValue: 2 })

  // new workers will fail their critical check: a reload must keep the old ones
  writeFileSync(flag, '')
  proc.child.kill('SIGHUP')
  await proc.waitForLine((l) => /reload/.test(l.msg) && (l.ok === false || /fail|not ready|timed out|kept/i.test(l.msg)), 30_000)
  const after = await request(admin)
  t.equal(after.body.status, 'pass', 'the old workers still serve')
  t.equal((await request(`http://127.0.0.1:${port}/health/ready`)).status, 200)

  rmSync(flag)
  const oldPids = after.body.workers.map((w) => w.pid).sort()
  proc.child.kill('SIGHUP')
  await waitFor(async () => {
    const res = await request(admin)
    const pids = res.body.workers.map((w) => w.pid).sort()
    return res.body.status === 'pass' && pids.length === 2 && pids.every((p) => !oldPids.includes(p))
  }, { timeout: 20_000, message: 'a reload with healthy replacements' })
})

t.test('no worker ready: 503', async (t) => {
  const flag = path.join(os.tmpdir(), `corral-health-flag2-${process.pid}`)
  writeFileSync(flag, '')
  t.teardown(() => rmSync(flag, { force: true }))
  const [port, adminPort] = [await freePort(), await freePort()]
  const proc = spawnNode(fixture, { env: { PORT: String(port), ADMIN_PORT: String(adminPort), FLAG: flag, READY_TIMEOUT: '5000' } })
  t.teardown(() => proc.stop('SIGKILL'))
  const res = await waitFor(async () => {
    // a cluster that exited never answers: its last lines say why, in the timeout's message
    if (proc.child.exitCode !== null) throw new Error(`the cluster exited ${proc.child.exitCode}: ${JSON.stringify(proc.lines.slice(-3))}`)
    const r = await request(`http://127.0.0.1:${adminPort}/health`)
    return r.body.workers?.length > 0 && r
  }, { message: 'reports' })
  t.equal(res.status, 503)
  t.equal(res.body.status, 'fail')
  t.equal(res.headers['retry-after'], '5')
})

// A stand-in for the supervisor: cluster-boot's own does not list slots in every version, and
// the aggregator must read `state().slots` when it is there (and carry on when it is not).
function standInSupervisor (state) {
  const handlers: Array<(...args: unknown[]) => void> = []
  return {
    supervisor: {
      stopping: false,
      bus: { on: (_ns, fn) => { handlers.push(fn); return () => {} } },
      on () {},
      off () {},
      state: () => state
    },
    // `from` is the supervisor's record of the worker: its state is the supervisor's, not the worker's word
    report: (slot, pid) => {
      const record = state.workers.find((w) => w.pid === pid) ?? { slot, pid, state: 'ready' }
      for (const fn of handlers) fn({ status: 'pass', draining: false, at: Date.now() }, record)
    },
    // any message on the health namespace, as a buggy or compromised worker could send
    send: (data: unknown, record: unknown) => { for (const fn of handlers) fn(data, record) }
  }
}

t.test('a crash-looping slot in backoff makes the machine view warn while the other workers serve', async (t) => {
  const ready = { slot: 0, pid: 101, state: 'ready' }
  const state = {
    workers: [ready],
    slots: [
      { slot: 0, status: 'up', crashes: 0 },
      { slot: 1, status: 'backoff', crashes: 4, respawnAt: Date.now() + 8000, lastError: 'connect postgres://app:hunter2@db/x refused' },
      { slot: 'x', status: 'nonsense' }
    ]
  }
  const { supervisor, report } = standInSupervisor(state)
  const admin = Fastify()
  admin.decorate('supervisor', supervisor)
  await admin.register(healthAggregator)
  t.teardown(() => admin.close())
  report(0, 101)
  const res = await admin.inject('/health')
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.status, 'warn')
  t.match(body.checks['slots:backoff'][0], { status: 'warn', observedValue: 1 })
  t.equal(body.slots.length, 2, 'a malformed slot entry is skipped')
  t.match(body.slots[1], { slot: 1, status: 'backoff', crashes: 4, respawnInMs: Number })
  t.ok(body.slots[1].respawnInMs > 0 && body.slots[1].respawnInMs <= 8000)
  t.notMatch(res.body, /hunter2/, 'the last error is redacted')

  state.slots[1] = { slot: 1, status: 'up', crashes: 0 }
  state.workers.push({ slot: 1, pid: 102, state: 'ready' })
  report(1, 102)
  const healed = (await admin.inject('/health')).json()
  t.equal(healed.status, 'pass')
  t.equal(healed.checks['slots:backoff'], undefined)
})

t.test('a worker the supervisor marks unresponsive is not counted ready, however fresh its last report', async (t) => {
  const state = { workers: [{ slot: 0, pid: 201, state: 'ready' }, { slot: 1, pid: 202, state: 'unresponsive' }] }
  const { supervisor, report } = standInSupervisor(state)
  const admin = Fastify()
  admin.decorate('supervisor', supervisor)
  await admin.register(healthAggregator)
  t.teardown(() => admin.close())
  report(0, 201)
  report(1, 202)
  const body = (await admin.inject('/health')).json()
  t.equal(body.status, 'warn')
  t.same(body.workers.map((w) => [w.slot, w.ready]), [[0, true], [1, false]])
  t.equal(body.checks['workers:ready'][0].observedValue, 1)
})

t.test('during a reload a replacement not yet listening or a draining worker is not ready, and the second worker of a slot is not a missing one', async (t) => {
  const state = {
    workers: [
      { slot: 0, pid: 301, state: 'ready' },
      { slot: 0, pid: 303, state: 'starting' },
      { slot: 1, pid: 302, state: 'ready' }
    ],
    slots: [{ slot: 0, status: 'up', crashes: 0 }, { slot: 1, status: 'up', crashes: 0 }]
  }
  const { supervisor, report } = standInSupervisor(state)
  const admin = Fastify()
  admin.decorate('supervisor', supervisor)
  await admin.register(healthAggregator)
  t.teardown(() => admin.close())
  report(0, 301)
  report(1, 302)
  t.equal((await admin.inject('/health')).json().status, 'pass', 'a replacement that has not reported yet does not turn the view to warn')
  // the replacement's health plugin reports pass from onReady, before it listens
  report(0, 303)
  let body = (await admin.inject('/health')).json()
  t.same(body.workers.map((w) => [w.pid, w.ready]), [[301, true], [303, false], [302, true]], 'the starting replacement is not ready')
  t.equal(body.checks['workers:ready'][0].observedValue, 2)
  t.equal(body.status, 'pass')
  // it is ready now and the old worker drains (its last report, from before, said pass)
  state.workers[1].state = 'ready'
  state.workers[0].state = 'draining'
  body = (await admin.inject('/health')).json()
  t.same(body.workers.map((w) => [w.pid, w.ready]), [[301, false], [303, true], [302, true]], 'the draining worker is not ready')
  t.equal(body.status, 'pass')
})

t.test('healthAggregator checks path and staleAfter at registration, naming them', async (t) => {
  // wrong on purpose
  const cases: Array<[any, string]> = [[{ path: 'health' }, 'path'], [{ staleAfter: 0 }, 'staleAfter']]
  for (const [options, name] of cases) {
    const admin = Fastify()
    admin.decorate('supervisor', standInSupervisor({ workers: [] }).supervisor)
    admin.register(healthAggregator, options)
    t.match(await admin.ready().then(undefined, (e) => e), { code: 'CORRAL_HEALTH_INVALID_OPTION', message: new RegExp(`"${name}"`) }, name)
    await admin.close()
  }
})

t.test('a message that is not a readiness report is dropped and counted; with no worker ready the machine fails, with Retry-After', async (t) => {
  const state = { workers: [{ slot: 0, pid: 401, state: 'ready' }], slots: [{ slot: 0, status: 'up' }] }
  const { supervisor, send } = standInSupervisor(state)
  const admin = Fastify()
  admin.decorate('supervisor', supervisor)
  await admin.register(healthAggregator)
  t.teardown(() => admin.close())
  send(null, state.workers[0])
  send({ status: 'great', draining: false, at: Date.now() }, state.workers[0])
  const res = await admin.inject('/health')
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '5')
  const body = res.json()
  t.equal(body.status, 'fail')
  t.equal(body.droppedReports, 2)
  t.same(body.workers, [], 'neither counted as the worker\'s report')
  t.same(body.slots, [{ slot: 0, status: 'up', crashes: 0 }], 'a slot without a crash count has none')
})
