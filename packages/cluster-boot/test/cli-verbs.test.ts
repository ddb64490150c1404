// Every control verb of the corral CLI, driven for real against apps it started.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test, type Test } from 'tap'
import { freePort, request, spawnNode, waitFor } from '../../../test/helpers/index.js'
import { fixture } from './fixtures/cluster.js'

const cli = new URL('../bin/corral.js', import.meta.url).pathname
const ready = (l: { msg?: string }): boolean => l.msg === 'all workers ready'

interface Result { code: number | null, stdout: string, stderr: string }

/** Runs `corral <args>` to the end. */
function corral (args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c })
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c })
    child.on('close', (code) => resolve({ code, stdout: stdout.trimEnd(), stderr }))
  })
}

/** The pid serving each slot, once `n` slots answered on `port`. */
async function pidsOf (port: number, n: number): Promise<Map<number, number>> {
  const seen = new Map<number, number>()
  await waitFor(async () => {
    const { body } = await request(`http://127.0.0.1:${port}/`)
    seen.set(body.slot, body.pid)
    return seen.size === n
  }, { timeout: 20_000, message: `${n} slots to answer` })
  return seen
}

/** `corral list` rows of one app: [name, slot, pid, state, uptime, restarts, cpu, memory, req/s]. */
function rowsOf (stdout: string, name: string): string[][] {
  return stdout.split('\n').slice(1).map((r) => r.split(/\s{2,}/)).filter((r) => r[0] === name)
}

async function startApp (t: Test, home: string, name: string, args: string[], env: Record<string, string> = {}): Promise<{ app: any, port: number }> {
  const port = await freePort()
  const app = spawnNode(cli, { args: ['start', fixture('cli-scale-app.mjs'), '--name', name, '-p', String(port), ...args], env: { CORRAL_HOME: home, ...env } })
  t.teardown(() => app.stop('SIGTERM'))
  await app.waitForLine(ready, 30_000)
  return { app, port }
}

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
  t.equal(spawnSync('stat', ['-c', '%a', path.join(home, 'apps')]).stdout.toString().trim(), '700', 'in an owner-only directory')
  const webEntry = JSON.parse(readFileSync(path.join(home, 'apps', `web.${web.app.child.pid}.json`), 'utf8'))
  t.ok(webEntry.token.length >= 16, 'with the token generated for the admin server')
  t.equal((await request(`${webEntry.admin}/supervisor`)).status, 401, 'which the admin server asks for')

  // requests counted in the workers: req/s and the total reach `corral list`
  for (let i = 0; i < 40; i++) await request(`http://127.0.0.1:${web.port}/`)
  const listed = await waitFor(async () => {
    const r = await corral(['list', '--json'], env)
    const rows = JSON.parse(r.stdout) as Array<{ name: string, requests?: number, cpu?: number }>
    const webRows = rows.filter((w) => w.name === 'web')
    return webRows.length === 2 && webRows.reduce((n, w) => n + (w.requests ?? 0), 0) >= 40 && rows
  }, { timeout: 20_000, message: 'the requests in the workers\' stats' })
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

test('a scale whose new worker never gets ready removes the slots it added and fails', async (t) => {
  const home = t.testdir()
  const env = { CORRAL_HOME: home, ADMIN_PORT: '', CORRAL_ADMIN_TOKEN: '' }
  const { app, port } = await startApp(t, home, 'picky', ['-i', '2'], { ...env, FAIL_FROM_SLOT: '3' })
  const before = await pidsOf(port, 2)
  const result = await corral(['scale', 'picky', '4'], env)
  t.equal(result.code, 1)
  t.match(JSON.parse(result.stdout), { ok: false, from: 2, workers: 2, failedSlot: 3, added: [] })
  t.equal(result.stderr, 'corral: scale failed (500): slot 3 refuses to start\n')
  const rows = rowsOf((await corral(['list', 'picky'], env)).stdout, 'picky')
  t.same(rows.map((r) => [r[1], r[3]]), [['0', 'ready'], ['1', 'ready']], 'back to the two slots it had')
  t.same(await pidsOf(port, 2), before, 'which never stopped serving')
  t.ok(app.lines.some((l: any) => l.msg === 'worker exited' && l.slot === 2), 'slot 2, ready, was drained again')
  t.equal((await corral(['stop', 'picky'], env)).code, 0)
  t.equal((await app.exited).code, 0)
})

test('corral scale refuses under sticky scheduling: clients are hashed over a fixed number of slots', async (t) => {
  const home = t.testdir()
  const env = { CORRAL_HOME: home, ADMIN_PORT: '', CORRAL_ADMIN_TOKEN: '' }
  const { app } = await startApp(t, home, 'sticky', ['-i', '2', '--scheduling', 'sticky'], env)
  const result = await corral(['scale', 'sticky', '+1'], env)
  t.equal(result.code, 1)
  t.equal(result.stderr, 'corral: scale failed (409): Cannot scale: scheduling \'sticky\' hashes clients over a fixed number of slots: restart with another worker count\n')
  await corral(['stop', 'sticky'], env)
  t.equal((await app.exited).code, 0)
})

const tmux = spawnSync('tmux', ['-V']).status === 0

test('corral monit shows every worker live in a terminal and quits on q', { skip: tmux ? false : 'tmux is not installed (apt-get install tmux)' }, async (t) => {
  const home = t.testdir()
  const env = { CORRAL_HOME: home, ADMIN_PORT: '', CORRAL_ADMIN_TOKEN: '' }
  const { app } = await startApp(t, home, 'watched', ['-i', '2'], env)
  // a tmux server of this test's own (-L): the user's sessions are never touched
  const socket = `corral-test-${process.pid}`
  const session = `corral-monit-${process.pid}`
  const exitFile = path.join(home, 'monit.exit')
  const run = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' })
  const command = `CORRAL_HOME='${home}' ADMIN_PORT= '${process.execPath}' '${cli}' monit --interval 200; echo $? > '${exitFile}'`
  t.equal(run('new-session', '-d', '-s', session, '-x', '160', '-y', '40', command).status, 0, 'tmux session started')
  t.teardown(() => { run('kill-session', '-t', session) })

  const screen = await waitFor(() => {
    const text = String(run('capture-pane', '-p', '-t', session).stdout)
    const rows = text.split('\n').filter((l) => /^watched\s+\d\s+\d+\s+ready\s/.test(l))
    // the stats columns filled in: every worker reported
    return rows.length === 2 && rows.every((r) => !/\s-\s/.test(r)) && text
  }, { timeout: 20_000, message: 'monit to show both workers with their stats' })
  t.match(screen, /^corral monit: 1 app, 2 workers, every 0\.2s; q quits/m)
  t.match(screen, /APP\s+SLOT\s+PID\s+STATE\s+UPTIME\s+RESTARTS\s+CPU\s+MEMORY\s+REQ\/S\s+LOOP/)
  t.match(screen, /^watched\s+0\s+\d+\s+ready\s+\S+\s+0\s+[\d.]+%\s+[\d.]+ MB\s+[\d.]+\s+[\d.]+ ms/m)
  t.match(screen, /^total: CPU [\d.]+%/m)

  // a third worker appears on the next refresh
  t.equal((await corral(['scale', 'watched', '3'], env)).code, 0)
  await waitFor(() => /^watched\s+2\s+\d+\s+ready/m.test(String(run('capture-pane', '-p', '-t', session).stdout)), { timeout: 10_000, message: 'slot 2 on screen' })

  run('send-keys', '-t', session, 'q')
  await waitFor(() => existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim() !== '', { timeout: 10_000, message: 'monit to quit on q' })
  t.equal(readFileSync(exitFile, 'utf8').trim(), '0', 'monit exits 0 on q')
  t.notMatch(String(run('capture-pane', '-p', '-t', session).stdout), /corral monit:/, 'and gives the shell its screen back')
  await corral(['stop', 'watched'], env)
  t.equal((await app.exited).code, 0)
})

test('corral startup systemd prints a unit for the app: ExecStart, reload, kill mode, stop timeout', async (t) => {
  const result = await corral(['startup', 'systemd', fixture('cli-app.mjs'), '-i', '4', '--kill-timeout', '12000', '--name', 'api'], { NODE_ENV: '' })
  t.equal(result.code, 0, result.stderr)
  const unit = result.stdout
  const keys = (section: string): Map<string, string> => {
    const body = unit.split(/^\[/m).find((s) => s.startsWith(`${section}]`)) ?? ''
    return new Map(body.split('\n').filter((l) => /^\w+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  }
  const service = keys('Service')
  t.equal(service.get('ExecStart'), `${process.execPath} ${realpathSync(cli)} start ${fixture('cli-app.mjs')} --name api --instances 4 --kill-timeout 12000`, 'absolute node and corral, the same arguments')
  t.equal(service.get('WorkingDirectory'), process.cwd())
  t.equal(service.get('ExecReload'), '/bin/kill -HUP $MAINPID', 'reload is the rolling reload')
  t.equal(service.get('KillMode'), 'mixed')
  t.equal(service.get('TimeoutStopSec'), '17', 'killTimeout 12 s + 5 s')
  t.equal(service.get('Restart'), 'on-failure')
  t.equal(service.get('Environment'), 'NODE_ENV=production')
  t.equal(keys('Install').get('WantedBy'), 'multi-user.target')
  t.match(keys('Unit').get('Description'), /^Corral: api /)

  if (spawnSync('systemd-analyze', ['--version']).status !== 0) return
  const dir = t.testdir()
  const file = path.join(dir, 'corral-api.service')
  writeFileSync(file, `${unit}\n`)
  const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', cwd: dir })
  t.equal(verify.status, 0, 'systemd-analyze verify accepts it')
  t.equal(verify.stderr.split('\n').filter((l) => l.includes('corral-api.service')).join('\n'), '', 'without a warning about the unit')
})

test('corral startup systemd refuses an app that cannot start, and an init system it does not know', async (t) => {
  const missing = await corral(['startup', 'systemd', fixture('cli-app.mjs'), '-i', 'lots'])
  t.equal(missing.code, 1, `exits 1: ${missing.stderr}`)
  t.match(missing.stderr, 'Invalid option "workers": expected an integer from 1 to 1024, got "lots"')
  const other = await corral(['startup', 'upstart'])
  t.equal(other.code, 2, `exits 2: ${other.stderr.split('\n')[0]}`)
  t.match(other.stderr, 'corral startup: say which init system: corral startup systemd [<app or config>] [start options] (got "upstart": only systemd is supported)')
})
