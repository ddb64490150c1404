import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'tap'
import { freePort, request, spawnNode, waitFor } from '@corral/test-helpers'
import { fixture } from './fixtures/cluster.js'

const cli = new URL('../bin/corral.js', import.meta.url).pathname
const ready = (l) => l.msg === 'all workers ready'

function tmpDir (t) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function slotsOf (port, n) {
  const seen = new Map()
  await waitFor(async () => {
    const { body } = await request(`http://127.0.0.1:${port}/`)
    seen.set(body.slot, body)
    return seen.size === n
  }, { timeout: 20_000, message: `${n} slots to answer on ${port}` })
  return [...seen.values()]
}

test('corral start with no file reads corral.config.mjs in the working directory, its env and admin port', async (t) => {
  const port = await freePort()
  const adminPort = await freePort()
  const proc = spawnNode(cli, { args: ['start'], cwd: fixture('cli-config'), env: { TEST_PORT: String(port), TEST_ADMIN_PORT: String(adminPort) } })
  t.teardown(() => proc.stop('SIGTERM'))
  await proc.waitForLine(ready, 30_000)
  const workers = await slotsOf(port, 2)
  t.same(workers.map((w) => w.greeting), ['development', 'development'], 'env of the app')
  t.equal((await request(`http://127.0.0.1:${adminPort}/supervisor`)).body.name, 'api', 'admin port from the file, app named')
  proc.child.kill('SIGTERM')
  t.equal((await proc.exited).code, 0)
})

test('corral start --env production uses the env_production block', async (t) => {
  const port = await freePort()
  const adminPort = await freePort()
  const proc = spawnNode(cli, { args: ['start', '-c', fixture('cli-config/corral.config.mjs'), '--env', 'production', '-i', '1'], env: { TEST_PORT: String(port), TEST_ADMIN_PORT: String(adminPort) } })
  t.teardown(() => proc.stop('SIGTERM'))
  await proc.waitForLine(ready, 30_000)
  t.equal((await request(`http://127.0.0.1:${port}/`)).body.greeting, 'production')
})

test('an invalid config value fails with the key and the file named', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'corral.config.json')
  writeFileSync(file, JSON.stringify({ apps: [{ name: 'api', entry: fixture('cli-app.mjs'), instances: 'lots' }] }))
  const proc = spawnNode(cli, { args: ['start'], cwd: dir })
  t.teardown(() => proc.stop('SIGKILL'))
  t.equal((await proc.exited).code, 1)
  t.match(proc.stderr, `option "apps[0].instances" in ${file} must be an integer from 1 to 1024 (got "lots")`)

  writeFileSync(file, JSON.stringify({ name: 'api', entry: fixture('cli-app.mjs'), killtimeout: 5 }))
  const typo = spawnNode(cli, { args: ['start', file] })
  t.teardown(() => typo.stop('SIGKILL'))
  t.equal((await typo.exited).code, 1)
  t.match(typo.stderr, `option "killtimeout" in ${file}`, 'an unknown key is named too')

  writeFileSync(file, JSON.stringify({ name: 'api', entry: fixture('cli-app.mjs'), env_production: {} }))
  const profile = spawnNode(cli, { args: ['start', file, '--env', 'prod'] })
  t.teardown(() => profile.stop('SIGKILL'))
  t.equal((await profile.exited).code, 1)
  t.match(profile.stderr, `option "env_prod" in ${file}`, 'a profile no app has is an error')
})

test('corral start with no file and no config file in the directory says what it looked for', async (t) => {
  const dir = tmpDir(t)
  const proc = spawnNode(cli, { args: ['start'], cwd: dir })
  t.teardown(() => proc.stop('SIGKILL'))
  t.equal((await proc.exited).code, 1)
  t.equal(proc.stderr, `corral: No app given and no corral.config.{js,mjs,cjs,json} or ecosystem.config.js in ${dir}: run \`corral start app.js\` or \`corral start -c <config>\`\n`)
})

test('a PM2 ecosystem.config.js starts, with its keys mapped and the unsupported ones named in one warning', async (t) => {
  const port = await freePort()
  const proc = spawnNode(cli, { args: ['start', fixture('pm2/ecosystem.config.js'), '--env', 'production'], env: { TEST_PORT: String(port), PORT: '' } })
  t.teardown(() => proc.stop('SIGTERM'))
  await proc.waitForLine(ready, 30_000)
  const workers = await slotsOf(port, 2)
  t.same(workers.map((w) => w.greeting), ['pm2 production', 'pm2 production'], 'env and env_production merged')
  const warnings = proc.stderr.split('\n').filter((l) => /ignoring PM2 keys/.test(l))
  t.equal(warnings.length, 1, 'one warning line, from the primary only')
  t.match(warnings[0], 'watch, log_date_format')
  t.notMatch(warnings[0], 'exec_mode', 'exec_mode is ignored without a warning')
  t.match(workers[0].title, 'corral worker legacy', 'named after the PM2 app')
  proc.child.kill('SIGTERM')
  t.equal((await proc.exited).code, 0)
})

test('a CommonJS ecosystem.config.js in an ES module package is refused with the rename to make', async (t) => {
  const dir = tmpDir(t)
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
  writeFileSync(path.join(dir, 'ecosystem.config.js'), `module.exports = { apps: [{ name: 'x', script: ${JSON.stringify(fixture('cli-app.mjs'))} }] }\n`)
  const proc = spawnNode(cli, { args: ['start'], cwd: dir })
  t.teardown(() => proc.stop('SIGKILL'))
  t.equal((await proc.exited).code, 1)
  t.equal(proc.stderr, `corral: ${path.join(dir, 'ecosystem.config.js')} uses CommonJS (module.exports) inside an ES module package: rename it ecosystem.config.cjs\n`)
})

test('--admin-port moves the config file\'s admin server and keeps its other settings', async (t) => {
  const dir = tmpDir(t)
  const [port, adminPort] = [await freePort(), await freePort()]
  writeFileSync(path.join(dir, 'corral.config.json'), JSON.stringify({ name: 'api', entry: fixture('cli-app.mjs'), instances: 1, port, admin: { port: 1, allowedHosts: ['admin.internal'] } }))
  const proc = spawnNode(cli, { args: ['start', '--admin-port', String(adminPort)], cwd: dir })
  t.teardown(() => proc.stop('SIGTERM'))
  await proc.waitForLine(ready, 30_000)
  const res = await request(`http://127.0.0.1:${adminPort}/supervisor`, { headers: { host: 'admin.internal' } })
  t.equal(res.status, 200, 'allowedHosts from the file still apply')
})

test('a config file with two apps starts one primary per app and stops both on SIGTERM', async (t) => {
  const dir = tmpDir(t)
  const [portA, portB] = [await freePort(), await freePort()]
  writeFileSync(path.join(dir, 'corral.config.json'), JSON.stringify({
    apps: [
      { name: 'one', entry: fixture('cli-env-app.mjs'), instances: 1, port: portA, env: { GREETING: 'one' } },
      { name: 'two', entry: fixture('cli-env-app.mjs'), instances: 1, port: portB, env: { GREETING: 'two' } }
    ]
  }))
  const proc = spawnNode(cli, { args: ['start'], cwd: dir })
  t.teardown(() => proc.stop('SIGTERM'))
  await waitFor(() => proc.lines.filter(ready).length === 2, { timeout: 30_000, message: 'both apps ready' })
  const [a, b] = [(await request(`http://127.0.0.1:${portA}/`)).body, (await request(`http://127.0.0.1:${portB}/`)).body]
  t.same([a.greeting, b.greeting], ['one', 'two'])
  t.match(a.title, 'corral worker one 0')
  t.match(proc.stderr, 'one primary each: one, two')
  proc.child.kill('SIGTERM')
  t.equal((await proc.exited).code, 0)
  await t.rejects(request(`http://127.0.0.1:${portA}/`), 'app one is gone')
  await t.rejects(request(`http://127.0.0.1:${portB}/`), 'app two is gone')
})
