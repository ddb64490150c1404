// worker.usePrimary(): a package's primary side, loaded by the primary on its
// admin instance when a worker asks, with no code in the primary.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { test, type Test } from 'tap'
import { freePort, request, spawnNode, waitFor } from '@corral/test-helpers'
import { fixture } from './fixtures/cluster.js'

interface Line { msg?: string, level?: number, [key: string]: unknown }
interface Started { proc: ReturnType<typeof spawnNode>, get: typeof request, admin: typeof request, port: number, adminPort: number }

const LOADED = 'primary module loaded'
const REFUSED = 'refused a primary module request from a worker'
const probeUrl = pathToFileURL(fixture('primary-pkg/primary.mjs')).href

async function start (t: Test, { opts = {}, env = {}, waitReady = true }: { opts?: Record<string, unknown>, env?: Record<string, string>, waitReady?: boolean } = {}): Promise<Started> {
  const port = await freePort()
  const adminPort = await freePort()
  const proc = spawnNode(fixture('primary-modules-app.mjs'), {
    env: { PORT: String(port), FIXTURE_OPTS: JSON.stringify({ admin: { port: adminPort }, ...opts }), ...env }
  })
  t.teardown(() => proc.stop('SIGTERM'))
  if (waitReady) await proc.waitForLine((l: Line) => l.msg === 'all workers ready', 20_000)
  const get = (p: string, init?: object): ReturnType<typeof request> => request(`http://127.0.0.1:${port}${p}`, init)
  const admin = (p: string, init?: object): ReturnType<typeof request> => request(`http://127.0.0.1:${adminPort}${p}`, init)
  return { proc, get: get as typeof request, admin: admin as typeof request, port, adminPort }
}

const lines = (proc: Started['proc'], msg: string): Line[] => proc.lines.filter((l: Line) => l.msg === msg)

test('a module two workers ask for is loaded once, with the options sent, before the first worker counts as ready', async (t) => {
  const { proc, admin, get } = await start(t)
  const probe = await admin('/probe')
  t.equal(probe.status, 200, 'the module\'s route is on the admin server, with no boot({ primary })')
  t.same(probe.body, { runs: 1, options: { greeting: 'hi' } })
  t.equal(lines(proc, LOADED).length, 1, 'one load logged')
  t.match(lines(proc, LOADED)[0], { module: probeUrl, plugin: 'corral-fixture-probe-primary' })
  const loadedAt = proc.lines.indexOf(lines(proc, LOADED)[0])
  const firstReady = proc.lines.findIndex((l: Line) => l.msg === 'worker ready')
  t.ok(loadedAt < firstReady, 'loaded before any worker was counted ready')
  const seen = new Map<number, unknown>()
  await waitFor(async () => {
    const res = await get('/')
    seen.set(res.body.slot, res.body.used)
    return seen.size === 2
  }, { message: 'both workers answered' })
  t.same([...seen.values()], [{ probe: true }, { probe: true }], 'usePrimary resolved true in both workers')
  t.equal((await admin('/supervisor')).status, 200, 'cluster-boot\'s own routes are still there')
})

test('a module registered by hand in boot({ primary }) is not registered again when workers ask for it', async (t) => {
  const { proc, admin } = await start(t, { env: { BY_HAND: '1' } })
  t.same((await admin('/probe')).body, { runs: 1, options: { greeting: 'by hand' } }, 'the hand registration, once')
  t.equal(lines(proc, LOADED).length, 0, 'nothing loaded on the workers\' behalf')
})

test('with admin: false and with sticky scheduling, the module still loads before the workers are ready', async (t) => {
  const noAdmin = await start(t, { opts: { admin: false } })
  t.same((await noAdmin.get('/probe')).body, { runs: 1, options: { greeting: 'hi' } }, 'admin: false: loaded, reached over the bus')
  await noAdmin.proc.stop()
  const sticky = await start(t, { opts: { scheduling: 'sticky' } })
  t.same((await sticky.admin('/probe')).body, { runs: 1, options: { greeting: 'hi' } }, 'sticky: on the admin server')
  t.equal((await sticky.get('/')).status, 200)
})

test('bad requests from a worker are refused and logged; the primary keeps serving', async (t) => {
  const { proc, admin, get } = await start(t)
  const raw = async (message: unknown): Promise<unknown> => (await get('/raw', { method: 'POST', body: { json: JSON.stringify(message) } })).body
  const cases: Array<[unknown, RegExp]> = [
    [{ op: 'use', module: 'https://example.test/primary.js', options: {} }, /file: URL, not https:/],
    [{ op: 'use', module: 'fastify', options: {} }, /absolute file: URL/],
    [{ op: 'use', module: `${probeUrl}?v=2`, options: {} }, /plain file path/],
    [{ op: 'use', module: probeUrl, options: 'greeting=hi' }, /plain object/],
    [{ op: 'use', module: probeUrl, options: [1, 2] }, /plain object/],
    [{ op: 'use', module: probeUrl, options: JSON.parse('{"a":{"__proto__":{"polluted":true}}}') }, /"__proto__"/],
    [{ op: 'use', module: probeUrl, options: { big: 'x'.repeat(70_000) } }, /larger than/],
    [{ op: 'format-disk' }, /unknown op/],
    ['use', /not an object/]
  ]
  for (const [body, reason] of cases) {
    t.match(await raw(body), { loaded: false, reason }, JSON.stringify(body).slice(0, 80))
  }
  t.equal(lines(proc, REFUSED).length, cases.length, 'each refusal logged')
  t.match(lines(proc, REFUSED)[0], { level: 40, slot: Number, pid: Number, reason: /https:/ })
  // the worker side refuses the same before sending
  t.match((await get('/use', { method: 'POST', body: { module: 'https://example.test/primary.js' } })).body, { code: 'CORRAL_INVALID_PRIMARY_MODULE', message: /file: URL/ })
  t.match((await get('/use', { method: 'POST', body: { module: probeUrl, options: 'x' } })).body, { code: 'CORRAL_INVALID_PRIMARY_MODULE', message: /plain object/ })
  t.same((await admin('/probe')).body, { runs: 1, options: { greeting: 'hi' } }, 'the module is still loaded once')
  t.equal((await admin('/supervisor')).status, 200, 'the primary still serves')
  t.equal(proc.child.exitCode, null, 'and runs')
})

test('a file that is not the "./primary" export of its package is refused and never imported', async (t) => {
  const declaredOther = pathToFileURL(fixture('primary-pkg/worker.mjs')).href
  const missing = pathToFileURL(path.join(os.tmpdir(), 'corral-nowhere', 'primary.mjs')).href
  const { proc, get } = await start(t, { env: { ALSO_ASK: JSON.stringify([declaredOther, missing]) } })
  t.match((await get('/')).body, { used: { probe: true, also: [false, false] } })
  const notLoaded = proc.lines.filter((l: Line) => l.msg === 'primary module not loaded')
  t.match(notLoaded, [{ level: 50, module: declaredOther, reason: /not the "\.\/primary" export of its package/ }, { module: missing, reason: 'no such file' }])
  t.equal(notLoaded.length, 2, 'each refused once, though two workers asked')
  t.equal(lines(proc, 'worker.mjs imported in the primary').length, 0, 'never imported')
})

test('a module whose plugin throws is logged and left out; the admin server and the workers start', async (t) => {
  const { proc, admin, get } = await start(t, { env: { PROBE_OPTS: JSON.stringify({ fail: true }) } })
  t.equal((await admin('/probe')).status, 404)
  t.equal((await admin('/supervisor')).status, 200)
  t.match(proc.lines.filter((l: Line) => l.msg === 'primary module not loaded'), [{ level: 50, module: probeUrl, reason: 'its plugin failed to register', err: { message: 'probe primary refuses these options' } }])
  t.match((await get('/')).body, { used: { probe: false } }, 'usePrimary resolved false')
})

test('a module first asked for after start (new code in a reload) is not loaded: a warning names it, and the workers still start', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-late-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const flag = path.join(dir, 'late')
  const { proc, admin, get } = await start(t, { env: { LATE_FILE: flag } })
  writeFileSync(flag, 'yes')
  const reload = await admin('/reload', { method: 'POST', headers: { 'x-corral-admin': '1' } })
  t.match(reload.body, { ok: true, replaced: [0, 1] }, 'the reload went through')
  const warnings = proc.lines.filter((l: Line) => typeof l.msg === 'string' && l.msg.startsWith('primary module not loaded: the admin server is already up'))
  t.equal(warnings.length, 1, 'one warning, though two workers asked')
  t.match(warnings[0], { level: 40, module: pathToFileURL(fixture('late-pkg/primary.mjs')).href, msg: /restart the cluster to load it/ })
  t.equal((await admin('/late')).status, 404)
  t.match((await get('/')).body, { used: { probe: true, late: false } })
})

test('a worker that fails at start-up after asking for a module: the primary stops, closes the admin server and exits 1', async (t) => {
  const { proc } = await start(t, { env: { THROW_AFTER: '1' }, waitReady: false })
  const { code } = await proc.exited
  t.equal(code, 1)
  t.match(proc.lines.filter((l: Line) => l.level === 60), [{ msg: 'Cannot start: boom after usePrimary' }])
})

test('while every worker crashes before ready, the admin server still comes up and shows the backoff', async (t) => {
  const { proc, admin } = await start(t, { opts: { restartDelay: 2000, maxRestarts: 50 }, env: { THROW_AFTER: 'random' }, waitReady: false })
  const state = await waitFor(async () => {
    const res = await admin('/supervisor')
    return res.status === 200 && res.body.slots.every((s: { status: string }) => s.status === 'backoff') ? res.body : null
  }, { timeout: 15_000, message: 'the admin server showing both slots in backoff' })
  t.match(state.slots, [{ slot: 0, crashes: 1, lastError: /boom/ }, { slot: 1, crashes: 1 }])
  t.same((await admin('/probe')).body, { runs: 1, options: { greeting: 'hi' } }, 'the module the workers asked for before crashing is in')
  t.equal(proc.child.exitCode, null)
})
