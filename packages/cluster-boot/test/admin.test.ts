import { test } from 'tap'
import { isLoopback, type AppFactory } from '@corral/cluster-boot'
// the resolved options createAdmin takes: a unit of its own, below the entry point
import { resolveOptions } from '../dist/options.js'
import { freePort, request, spawnNode, type RequestOptions } from '@corral/test-helpers'
import { fixture, startCluster } from './fixtures/cluster.js'

const cli = new URL('../bin/corral.js', import.meta.url).pathname
const TOKEN = 'test-admin-token-0123456789abcdef'
// never called: resolveOptions only checks that app is a function
const app = (() => null) as unknown as AppFactory
type ResolvedAdmin = Exclude<ReturnType<typeof resolveOptions>['admin'], false>

test('a cross-site POST /reload (no admin header, no JSON body) is refused with a code, and nothing reloads', async (t) => {
  const { adminPort } = await startCluster(t, { opts: { workers: 1 } })
  // not the fixture's admin(), which adds the admin header to a POST
  const admin = (p: string, init?: RequestOptions) => request(`http://127.0.0.1:${adminPort}${p}`, init)
  for (const headers of [{}, { 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }]) {
    const res = await admin('/reload', { method: 'POST', headers, body: headers['content-type'] ? 'a=1' : undefined })
    t.equal(res.status, 403, JSON.stringify(headers))
    t.equal(res.body.code, 'CORRAL_ADMIN_NOT_DELIBERATE')
  }
  const origin = await admin('/reload', { method: 'POST', headers: { 'x-corral-admin': '1', origin: 'https://evil.example' } })
  t.equal(origin.status, 403, 'a request from a foreign page is refused even with the header')
  t.equal((await admin('/supervisor')).body.reloads, 0, 'no reload ran')

  const deliberate = await admin('/reload', { method: 'POST', headers: { 'x-corral-admin': '1' } })
  t.equal(deliberate.status, 200)
  const json = await admin('/reload', { method: 'POST', body: {} })
  t.equal(json.status, 200, 'a JSON body is deliberate too')
  t.equal((await admin('/supervisor')).body.reloads, 2)
})

test('a request naming another host (DNS rebinding) is refused on every admin route', async (t) => {
  const { admin, adminPort } = await startCluster(t, { opts: { workers: 1 } })
  for (const host of ['evil.example', `evil.example:${adminPort}`, `127.0.0.1:${adminPort + 1}`]) {
    const get = await admin('/supervisor', { headers: { host } })
    t.equal(get.status, 421, `GET with Host ${host}`)
    t.equal(get.body.code, 'CORRAL_ADMIN_HOST')
    t.equal((await admin('/reload', { method: 'POST', headers: { host, 'x-corral-admin': '1' } })).status, 421, `POST with Host ${host}`)
  }
  for (const host of [`127.0.0.1:${adminPort}`, `localhost:${adminPort}`]) {
    t.equal((await admin('/supervisor', { headers: { host } })).status, 200, `Host ${host}`)
  }
})

test('with admin.token every admin route needs the token (Bearer, or Basic as the password), and the token is never logged', async (t) => {
  const { admin, proc } = await startCluster(t, { opts: { workers: 1, logger: { level: 'trace' } }, env: { CORRAL_ADMIN_TOKEN: TOKEN } })
  const none = await admin('/supervisor')
  t.equal(none.status, 401)
  t.equal(none.body.code, 'CORRAL_ADMIN_UNAUTHORIZED')
  t.match(none.headers['www-authenticate'], /Bearer realm="corral admin".*Basic realm="corral admin"/)
  t.equal((await admin('/supervisor', { headers: { authorization: `Bearer ${TOKEN}x` } })).status, 401, 'a wrong token')
  t.equal((await admin('/supervisor', { headers: { authorization: `Basic ${TOKEN}` } })).status, 401, 'Basic without user:password')
  t.equal((await admin('/supervisor', { headers: { authorization: `Digest ${TOKEN}` } })).status, 401, 'another scheme')
  const basic = (user, password) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` })
  t.equal((await admin('/supervisor', { headers: basic('admin', 'nope') })).status, 401, 'Basic with a wrong password')
  t.equal((await admin('/supervisor', { headers: basic('anyone', TOKEN) })).status, 200, 'Basic with the token as password (a browser on the dashboard)')
  t.equal((await admin('/reload', { method: 'POST', headers: { 'x-corral-admin': '1' } })).status, 401)
  t.equal((await admin('/supervisor', { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200)
  const reload = await admin('/reload', { method: 'POST', headers: { 'x-corral-admin': '1', authorization: `bearer ${TOKEN}` } })
  t.equal(reload.status, 200)
  await proc.stop('SIGTERM')
  t.notMatch(JSON.stringify(proc.lines) + proc.stderr, TOKEN)
})

test('an admin server beyond loopback without a token fails at start-up, naming admin.token', async (t) => {
  t.throws(() => resolveOptions({ app, admin: { port: 9999, host: '0.0.0.0' } }, {}), { code: 'CORRAL_INVALID_OPTION', message: /"admin\.token"/ })
  t.throws(() => resolveOptions({ app, admin: { port: 9999, host: '::', token: 'short-secret' } }, {}), { message: /"admin\.token"/ })
  const short = (() => { try { resolveOptions({ app, admin: { port: 9999, token: 'short-secret' } }, {}) } catch (err) { return err } })()
  t.notMatch(short.message, /short-secret/, 'the error never shows the token')
  t.throws(() => resolveOptions({ app, admin: { port: 9999 } }, { CORRAL_ADMIN_TOKEN: 'x' }), { message: /"CORRAL_ADMIN_TOKEN"/ })
  t.match(resolveOptions({ app, admin: { port: 9999, host: '0.0.0.0' } }, { CORRAL_ADMIN_TOKEN: TOKEN }).admin, { host: '0.0.0.0', port: 9999 })
  t.equal((resolveOptions({ app, admin: { port: 9999 } }, {}).admin as ResolvedAdmin).token, undefined, 'loopback: optional')

  const port = await freePort()
  const proc = spawnNode(fixture('app.mjs'), { env: { PORT: String(port), FIXTURE_OPTS: JSON.stringify({ admin: { port: await freePort(), host: '0.0.0.0' } }), CORRAL_ADMIN_TOKEN: '' } })
  t.teardown(() => proc.stop('SIGKILL'))
  const { code } = await proc.exited
  t.not(code, 0)
  t.match(proc.stderr, /admin\.token/)
})

test('corral reload sends the admin header and the token from --token or CORRAL_ADMIN_TOKEN', async (t) => {
  const port = await freePort()
  const adminPort = await freePort()
  const proc = spawnNode(cli, { args: ['start', fixture('cli-app.mjs'), '-i', '1', '-p', String(port), '--admin-port', String(adminPort)], env: { CORRAL_ADMIN_TOKEN: TOKEN } })
  t.teardown(() => proc.stop('SIGTERM'))
  await proc.waitForLine((l) => l.msg === 'all workers ready', 20_000)

  const without = spawnNode(cli, { args: ['reload', '--admin-port', String(adminPort)], env: { CORRAL_ADMIN_TOKEN: '' } })
  t.equal((await without.exited).code, 1, 'no token: refused')
  t.match(without.lines[0], { code: 'CORRAL_ADMIN_UNAUTHORIZED' })
  const fromEnv = spawnNode(cli, { args: ['reload', '--admin-port', String(adminPort)], env: { CORRAL_ADMIN_TOKEN: TOKEN } })
  t.equal((await fromEnv.exited).code, 0)
  t.match(fromEnv.lines[0], { ok: true, replaced: [0] })
  const fromFlag = spawnNode(cli, { args: ['reload', '--admin-port', String(adminPort), '--token', TOKEN], env: { CORRAL_ADMIN_TOKEN: '' } })
  t.equal((await fromFlag.exited).code, 0)
  t.equal((await request(`http://127.0.0.1:${adminPort}/supervisor`, { headers: { authorization: `Bearer ${TOKEN}` } })).body.reloads, 2)
})

test('bound to every interface, the admin server answers to this machine\'s names and admin.allowedHosts only', async (t) => {
  const os = await import('node:os')
  const adminPort = await freePort()
  await startCluster(t, {
    opts: { workers: 1, admin: { port: adminPort, host: '0.0.0.0', allowedHosts: ['admin.internal'] } },
    env: { CORRAL_ADMIN_TOKEN: TOKEN }
  })
  const admin = (p: string, init?: RequestOptions) => request(`http://127.0.0.1:${adminPort}${p}`, init)
  const auth = { authorization: `Bearer ${TOKEN}` }
  for (const host of [`127.0.0.1:${adminPort}`, `${os.hostname()}:${adminPort}`, `admin.internal:${adminPort}`, 'admin.internal']) {
    t.equal((await admin('/supervisor', { headers: { ...auth, host } })).status, 200, `Host ${host}`)
  }
  t.equal((await admin('/supervisor', { headers: { ...auth, host: `evil.example:${adminPort}` } })).status, 421)
})

test('the admin server answers to the loopback address it is configured on, to its real port after an early inject, and to a bare name on port 80', async (t) => {
  // 127.0.0.2 is loopback, but no loopback name says it: `corral reload --host 127.0.0.2` sends Host 127.0.0.2:<port>
  const adminPort = await freePort()
  await startCluster(t, { opts: { workers: 1, admin: { port: adminPort, host: '127.0.0.2' } } })
  const res = await request(`http://127.0.0.2:${adminPort}/supervisor`)
  t.equal(res.status, 200, 'Host 127.0.0.2:<port>')
  t.equal((await request(`http://127.0.0.2:${adminPort}/supervisor`, { headers: { host: `localhost:${adminPort}` } })).status, 200, 'and the loopback names')

  // port 0: a request injected before listen must not pin the allowed Host to port 0
  const { proc } = await startCluster(t, { opts: { workers: 1, admin: { port: 0 } }, env: { FIXTURE_ADMIN_INJECT: '1' } })
  const { port } = await proc.waitForLine((l) => l.event === 'admin listening')
  t.equal((await request(`http://127.0.0.1:${port}/supervisor`)).status, 200, 'the real port is allowed')

  // port 80 (this suite runs as root, so 127.0.0.3:80 can be bound): a browser sends Host without the port
  if (process.getuid?.() === 0) {
    await startCluster(t, { opts: { workers: 1, admin: { port: 80, host: '127.0.0.3' } } })
    t.equal((await request('http://127.0.0.3/supervisor', { headers: { host: '127.0.0.3' } })).status, 200, 'bare Host on port 80')
    t.equal((await request('http://127.0.0.3/supervisor', { headers: { host: 'localhost' } })).status, 200, 'bare loopback name on port 80')
  }
})

test('one loopback test for admin and health: 127/8, ::1, localhost, and 127.x mapped into IPv6', async (t) => {
  for (const host of ['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) t.ok(isLoopback(host), host)
  for (const host of ['10.0.0.1', '::ffff:10.0.0.1', '0.0.0.0', '::', 'example.com', '']) t.notOk(isLoopback(host), host)
})
