// Every control verb of the corral CLI, driven for real against two apps it started.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { test } from 'tap'
import { freePort, request, waitFor } from '@corral/test-helpers'
import { corral, pidsOf, rowsOf, startApp } from './fixtures/cli-driver.js'

test('two apps at once: list and describe show both, one reloads, the other scales 2 -> 3 -> 2, both stop', async (t) => {
  const home = t.testdir()
  const env = { CORRAL_HOME: home, ADMIN_PORT: '', CORRAL_ADMIN_TOKEN: '' }
  // web: no admin port, found by name through the registry; jobs: a fixed admin port, as before
  const web = await startApp(t, home, 'web', ['-i', '2'], { ADMIN_PORT: '', CORRAL_ADMIN_TOKEN: '' })
  const jobsAdmin = await freePort()
  const jobs = await startApp(t, home, 'jobs', ['-i', '2', '--admin-port', String(jobsAdmin)], { ADMIN_PORT: '', CORRAL_ADMIN_TOKEN: '' })
  t.match(web.app.stderr, /admin on http:\/\/127\.0\.0\.1:\d+ \(token in /, 'a free admin port, said at start')

  const files = readdirSync(path.join(home, 'apps'))
  t.same(files.sort(), [`jobs.${jobs.app.child.pid}.json`, `web.${web.app.child.pid}.json`], 'each primary registered itself')
  t.equal(statSync(path.join(home, 'apps')).mode & 0o777, 0o700, 'in an owner-only directory')
  t.equal(statSync(path.join(home, 'apps', files[0])).mode & 0o777, 0o600, 'files only the owner reads')
  const webEntry = JSON.parse(readFileSync(path.join(home, 'apps', `web.${web.app.child.pid}.json`), 'utf8'))
  t.ok(webEntry.token.length >= 16, 'with the token generated for the admin server')
  t.equal((await request(`${webEntry.admin}/supervisor`)).status, 401, 'which the admin server asks for')

  // requests counted in the workers: req/s and the total reach `corral list`
  for (let i = 0; i < 40; i++) await request(`http://127.0.0.1:${web.port}/`)
  const listed = await waitFor(async () => {
    const r = await corral(['list', '--json'], env)
    const rows = JSON.parse(r.stdout) as Array<{ name: string, requests?: number, cpu?: number }>
    const webRows = rows.filter((w) => w.name === 'web')
    // every worker's first stats report (CPU is measured between two of them) has reached its primary too
    return webRows.length === 2 && webRows.reduce((n, w) => n + (w.requests ?? 0), 0) >= 40 && rows.length === 4 && rows.every((w) => typeof w.cpu === 'number') && rows
  }, { timeout: 20_000, message: 'the requests and the CPU in the workers\' stats' })
  t.same(listed.map((w: { name: string }) => w.name).sort(), ['jobs', 'jobs', 'web', 'web'], 'list --json: every worker of both apps')
  t.ok(listed.every((w: { cpu?: number }) => typeof w.cpu === 'number' && w.cpu >= 0), 'each with its CPU')

  const all = await corral(['list'], env)
  t.equal(all.code, 0)
  t.match(all.stdout.split('\n')[0], /^NAME\s+SLOT\s+PID\s+STATE\s+UPTIME\s+RESTARTS\s+CPU\s+MEMORY\s+REQ\/S$/)
  for (const name of ['web', 'jobs']) {
    const rows = rowsOf(all.stdout, name)
    t.same(rows.map((r) => r[1]), ['0', '1'], `${name}: a row per slot`)
    for (const r of rows) {
      t.equal(r[3], 'ready')
      t.match(r[6], /^\d+\.\d%$/, 'CPU in % of a core')
      t.match(r[7], /^\d+\.\d MB$/)
      t.match(r[8], /^\d+\.\d$/, 'req/s')
    }
  }
  const onlyWeb = await corral(['list', 'web'], env)
  t.same(onlyWeb.stdout.split('\n').slice(1).map((r) => r.split(/\s+/)[0]), ['web', 'web'], 'a name selects one app')

  const ambiguous = await corral(['reload'], env)
  t.equal(ambiguous.code, 1, 'reload with two apps running and no name: nothing done')
  t.equal(ambiguous.stderr, 'corral: 2 apps are running (jobs, web): name one, e.g. corral reload jobs\n')

  // web: a rolling reload, found by name
  const before = await pidsOf(web.port, 2)
  const reloaded = await corral(['reload', 'web'], env)
  t.equal(reloaded.code, 0, reloaded.stderr)
  t.match(JSON.parse(reloaded.stdout), { ok: true, replaced: [0, 1] })
  const after = await pidsOf(web.port, 2)
  t.notOk([...after.values()].some((pid) => [...before.values()].includes(pid)), 'every web worker replaced')
  const jobsBefore = await pidsOf(jobs.port, 2)

  // jobs: 2 -> 3 by name, then 3 -> 2 through ADMIN_PORT with a relative count
  const up = await corral(['scale', 'jobs', '3'], env)
  t.equal(up.code, 0, up.stderr)
  t.same(JSON.parse(up.stdout), { ok: true, from: 2, workers: 3, added: [2], removed: [] }, 'answers once the new slot is ready')
  const three = await pidsOf(jobs.port, 3)
  t.equal(three.get(0), jobsBefore.get(0), 'slot 0 untouched')
  t.equal(three.get(1), jobsBefore.get(1), 'slot 1 untouched')
  const listed3 = rowsOf((await corral(['list', 'jobs'], env)).stdout, 'jobs')
  t.same(listed3.map((r) => [r[1], r[2], r[3]]), [0, 1, 2].map((s) => [String(s), String(three.get(s)), 'ready']), 'list shows the third worker')
  t.match((await corral(['describe', 'jobs'], env)).stdout, /workers:\s+3 ready of 3 slots/)

  const down = await corral(['scale', '-1'], { ...env, ADMIN_PORT: String(jobsAdmin) })
  t.equal(down.code, 0, down.stderr)
  t.same(JSON.parse(down.stdout), { ok: true, from: 3, workers: 2, added: [], removed: [2] })
  await jobs.app.waitForLine((l: any) => l.msg === 'worker exited' && l.slot === 2 && l.pid === three.get(2) && l.code === 0, 5000)
  t.ok(jobs.app.lines.some((l: any) => l.msg === 'draining' && l.slot === 2 && l.reason === 'scale'), 'slot 2 drained, as on stop')
  const described = await corral(['describe', 'jobs'], env)
  t.match(described.stdout, /workers:\s+2 ready of 2 slots/)
  t.same(rowsOf(described.stdout, 'jobs').map((r) => r[1]), ['0', '1'], 'describe lists slots 0 and 1 only')
  t.notOk(jobs.app.lines.some((l: any) => l.msg === 'respawning worker' && l.slot === 2), 'the removed slot is not respawned')

  const zero = await corral(['scale', 'jobs', '0'], env)
  t.equal(zero.code, 1)
  t.equal(zero.stderr, 'corral: scale failed (400): Invalid worker count for scale: expected an integer from 1 to 1024, got 0\n')
  const huge = await corral(['scale', 'jobs', '+5000'], env)
  t.equal(huge.code, 1)
  t.match(huge.stderr, 'expected an integer from 1 to 1024, got 5002')
  const word = await corral(['scale', 'jobs', 'many'], env)
  t.equal(word.code, 2, 'a count that is not one is a usage error')
  t.match(word.stderr, 'corral scale: give the worker count: corral scale <name> <n|+n|-n|max> (got "many")')

  // both stop, by name
  for (const [name, { app }] of [['web', web], ['jobs', jobs]] as const) {
    const stopped = await corral(['stop', name], env)
    t.equal(stopped.code, 0, stopped.stderr)
    t.equal((await app.exited).code, 0, `${name}'s primary exits 0`)
  }
  t.same(readdirSync(path.join(home, 'apps')), [], 'and unregistered')

  for (const verb of [['list', 'web'], ['describe', 'web'], ['reload', 'web'], ['restart', 'web'], ['stop', 'web'], ['scale', 'web', '2'], ['monit', 'web']]) {
    const gone = await corral(verb, env)
    t.equal(gone.code, 1, `${verb[0]} fails when the app is not running`)
    t.equal(gone.stderr, 'corral: no app named "web" is running (none is); for an app that boot() starts in code, give --admin-port\n', `${verb[0]}: one line`)
  }
  const byPort = await corral(['scale', '3'], { ...env, ADMIN_PORT: String(jobsAdmin) })
  t.equal(byPort.code, 1)
  t.match(byPort.stderr, `corral: cannot reach the admin server at http://127.0.0.1:${jobsAdmin}/scale (ECONNREFUSED)`)
})
