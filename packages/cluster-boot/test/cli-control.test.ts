import { readFileSync } from 'node:fs'
import { test } from 'tap'
import { freePort, request, spawnNode, waitFor } from '@corral/test-helpers'
import { pidsOf } from './fixtures/cli-driver.js'
import { fixture } from './fixtures/cluster.js'

const cli = new URL('../bin/corral.js', import.meta.url).pathname
const ready = (l) => l.msg === 'all workers ready'

async function corral (args, env = {}) {
  const proc = spawnNode(cli, { args, env })
  const { code } = await proc.exited
  return { code, stdout: proc.lines.map((l) => l.text ?? JSON.stringify(l)).join('\n'), stderr: proc.stderr }
}

/** The pids serving the app, sorted, once `n` slots answered. */
async function pidList (port, n) {
  return [...(await pidsOf(port, n)).values()].sort()
}

test('list, status, describe, restart and stop drive a running app from a second process', async (t) => {
  const port = await freePort()
  const adminPort = await freePort()
  const app = spawnNode(cli, { args: ['start', fixture('cli-env-app.mjs'), '--name', 'shop', '-i', '2', '-p', String(port), '--admin-port', String(adminPort)] })
  t.teardown(() => app.stop('SIGTERM'))
  await app.waitForLine(ready, 30_000)
  const before = await pidList(port, 2)
  const admin = ['--admin-port', String(adminPort)]

  // memory comes with the workers' first stats report
  const listed = await waitFor(async () => {
    const result = await corral(['list', ...admin])
    return result.code === 0 && !/-$/m.test(result.stdout) && result
  }, { timeout: 20_000, message: 'a list with memory' })
  const rows = listed.stdout.split('\n')
  t.match(rows[0], /^NAME\s+SLOT\s+PID\s+STATE\s+UPTIME\s+RESTARTS\s+CPU\s+MEMORY\s+REQ\/S$/)
  t.equal(rows.length, 3, 'a row per worker')
  for (const [i, row] of rows.slice(1).entries()) t.match(row, new RegExp(`^shop\\s+${i}\\s+(\\d+)\\s+ready\\s+\\d+s\\s+0\\s+[\\d.]+%\\s+[\\d.]+ MB\\s+[\\d.]+$`))
  t.same(rows.slice(1).map((r) => Number(r.split(/\s+/)[2])).sort(), before, 'the pids that serve')

  const status = await corral(['status'], { ADMIN_PORT: String(adminPort) })
  t.equal(status.code, 0, 'status is list, and ADMIN_PORT works')
  t.equal(status.stdout.split('\n').length, 3)

  const described = await corral(['describe', ...admin])
  t.equal(described.code, 0)
  t.match(described.stdout, /name:\s+shop/)
  t.match(described.stdout, /workers:\s+2 ready of 2 slots/)
  t.match(described.stdout, /SLOT\s+STATUS\s+CRASHES/)

  const wrong = await corral(['reload', 'billing', ...admin])
  t.equal(wrong.code, 1, 'a name that is not the app at that port: nothing done')
  t.equal(wrong.stderr, `corral: the app at http://127.0.0.1:${adminPort} is "shop", not "billing": check --admin-port\n`)
  t.same(await pidList(port, 2), before, 'no worker replaced')

  const restarted = await corral(['restart', 'shop', ...admin])
  t.equal(restarted.code, 0, 'restart is a rolling reload')
  t.match(JSON.parse(restarted.stdout), { ok: true, replaced: [0, 1] })
  const after = await pidList(port, 2)
  t.notOk(after.some((pid) => before.includes(pid)), 'every worker was replaced')

  const stopped = await corral(['stop', ...admin])
  t.equal(stopped.code, 0)
  t.match(JSON.parse(stopped.stdout), { ok: true, stopped: true })
  t.equal((await app.exited).code, 0, 'the primary exits 0')
  t.ok(app.lines.some((l) => l.msg === 'stopping: draining workers' && l.reason === 'admin stop'), 'by a graceful drain')

  for (const verb of ['list', 'describe', 'reload', 'restart', 'stop']) {
    const gone = await corral([verb, ...admin])
    t.equal(gone.code, 1, `${verb} fails when nothing answers`)
    t.equal(gone.stderr.trim().split('\n').length, 1, `${verb}: one line`)
    t.match(gone.stderr, `cannot reach the admin server at http://127.0.0.1:${adminPort}`)
  }
})

test('control verbs send the admin token from --token or CORRAL_ADMIN_TOKEN', async (t) => {
  const port = await freePort()
  const adminPort = await freePort()
  const token = 'a-long-enough-admin-token'
  const app = spawnNode(cli, { args: ['start', fixture('cli-app.mjs'), '-i', '1', '-p', String(port)], env: { ADMIN_PORT: String(adminPort), CORRAL_ADMIN_TOKEN: token } })
  t.teardown(() => app.stop('SIGTERM'))
  await app.waitForLine(ready, 30_000)

  const without = await corral(['list', '--admin-port', String(adminPort)], { CORRAL_ADMIN_TOKEN: '' })
  t.equal(without.code, 1)
  t.match(without.stderr, 'wants a token: pass --token or set CORRAL_ADMIN_TOKEN')
  t.equal((await corral(['list', '--admin-port', String(adminPort), '--token', token], { CORRAL_ADMIN_TOKEN: '' })).code, 0, '--token')
  t.equal((await corral(['list'], { ADMIN_PORT: String(adminPort), CORRAL_ADMIN_TOKEN: token })).code, 0, 'env')
  const page = await request(`http://127.0.0.1:${adminPort}/stop`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  t.equal(page.status, 403, 'POST /stop is guarded like /reload: no x-corral-admin header, no stop')
  t.equal((await corral(['list'], { ADMIN_PORT: String(adminPort), CORRAL_ADMIN_TOKEN: token })).code, 0, 'still running')
  t.equal((await corral(['stop'], { ADMIN_PORT: String(adminPort), CORRAL_ADMIN_TOKEN: token })).code, 0, 'stop with the token')
  t.equal((await app.exited).code, 0)
})

test('an unknown command says so and exits 2', async (t) => {
  const result = await corral(['frobnicate'])
  t.equal(result.code, 2)
  t.equal(result.stderr.split('\n')[0], 'corral: unknown command frobnicate (commands: start, list, status, describe, reload, restart, stop, scale, logs, monit, startup; corral --help)')
  const home = t.testdir()
  const noApp = await corral(['list'], { ADMIN_PORT: '', CORRAL_HOME: home })
  t.equal(noApp.code, 1, 'no admin port and no app running: nothing to list')
  t.equal(noApp.stderr, `corral: no app is running (none in ${home}/apps); for an app that boot() starts in code, give --admin-port\n`)
  const badPort = await corral(['list'], { ADMIN_PORT: 'x' })
  t.equal(badPort.code, 2, 'an admin port that is not a number is a usage error')
  t.match(badPort.stderr, 'corral list: --admin-port (or env ADMIN_PORT) must be a port number (got "x")')
})

test('the first lines at start give the app URL, the admin URL and the primary pid; --name titles the processes', async (t) => {
  const port = await freePort()
  const adminPort = await freePort()
  const app = spawnNode(cli, { args: ['start', fixture('cli-env-app.mjs'), '-n', 'billing', '-i', '1', '-p', String(port), '--admin-port', String(adminPort)] })
  t.teardown(() => app.stop('SIGTERM'))
  await app.waitForLine(ready, 30_000)
  t.match(app.lines[0], { app: 'billing', pid: app.child.pid, msg: new RegExp(`^starting billing: app on http://127\\.0\\.0\\.1:${port}, admin on http://127\\.0\\.0\\.1:${adminPort}, primary pid ${app.child.pid}, 1 worker, logs in `) }, 'the first line, from boot()')
  t.notMatch(app.stderr, 'starting billing', 'said once')
  t.equal(readFileSync(`/proc/${app.child.pid}/cmdline`, 'utf8').replace(/\0+$/, ''), 'corral primary billing')
  t.equal((await request(`http://127.0.0.1:${port}/`)).body.title, 'corral worker billing 0')
})
