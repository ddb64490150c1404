import { test } from 'tap'
import { boot, parseBytes, resolveOptions } from '@corral/cluster-boot'
import { spawnNode } from '../../../test/helpers/index.js'
import { fixture } from './fixtures/cluster.js'

const app = () => null

function rejects (t, opts, name, env = {}) {
  t.throws(() => resolveOptions({ app, ...opts }, env), { code: 'CORRAL_INVALID_OPTION', message: new RegExp(`"${name.replace('.', '\\.')}"`) }, `${name} is refused`)
}

test('bad option values fail at start-up naming the option and what it accepts', async (t) => {
  rejects(t, { workers: 'lots' }, 'workers')
  rejects(t, { workers: 0 }, 'workers')
  rejects(t, { workers: 2.5 }, 'workers')
  rejects(t, { port: 70000 }, 'port')
  rejects(t, { host: '' }, 'host')
  rejects(t, { killTimeout: -1 }, 'killTimeout')
  rejects(t, { readyTimeout: 'soon' }, 'readyTimeout')
  rejects(t, { maxMemory: 'lots' }, 'maxMemory')
  rejects(t, { maxMemory: -5 }, 'maxMemory')
  rejects(t, { scheduling: 'random' }, 'scheduling')
  rejects(t, { admin: { port: 'x' } }, 'admin.port')
  rejects(t, { admin: 3001 }, 'admin')
  rejects(t, { primary: 'yes' }, 'primary')
  rejects(t, { logger: 'loud' }, 'logger')
  rejects(t, { maxRestartDelay: 10, restartDelay: 100 }, 'maxRestartDelay')
  t.throws(() => resolveOptions({}), { code: 'CORRAL_INVALID_OPTION', message: /"app"/ })
  const err = t.throws(() => resolveOptions({ app, scheduling: 'random' }))
  t.match(err.message, /expected 'auto', 'rr', 'none', 'reuseport' or 'sticky', got "random"/)
})

test('environment variables fill in what the options leave out, and are named when wrong', async (t) => {
  const opts = resolveOptions({ app }, { WORKERS: '3', PORT: '4000', HOST: '0.0.0.0' })
  t.equal(opts.workers, 3)
  t.equal(opts.port, 4000)
  t.equal(opts.host, '0.0.0.0')
  t.equal(resolveOptions({ app, workers: 2 }, { WORKERS: '3' }).workers, 2, 'the option wins over the env')
  rejects(t, {}, 'WORKERS', { WORKERS: 'many' })
  rejects(t, {}, 'PORT', { PORT: 'http' })
})

test('defaults are spelled out', async (t) => {
  const opts = resolveOptions({ app }, {})
  t.match(opts, {
    port: 3000,
    host: '127.0.0.1',
    killTimeout: 10000,
    readyTimeout: 15000,
    maxRestarts: 10,
    restartWindow: 60000,
    maxMemory: 0,
    scheduling: 'auto',
    admin: false
  })
  t.ok(opts.workers >= 1, "'max' by default")
  t.same(resolveOptions({ app, admin: { port: 0 } }, {}).admin, { port: 0, host: '127.0.0.1', token: undefined, allowedHosts: [] }, 'admin binds loopback by default')
})

test('memory sizes read like PM2', async (t) => {
  t.equal(parseBytes('512M'), 512 * 1024 ** 2)
  t.equal(parseBytes('1G'), 1024 ** 3)
  t.equal(parseBytes('300MB'), 300 * 1024 ** 2)
  t.equal(parseBytes('64k'), 64 * 1024)
  t.equal(parseBytes(1048576), 1048576)
  t.throws(() => parseBytes('0M'), { code: 'CORRAL_INVALID_OPTION' })
})

test('boot() rejects a bad option before forking anything', async (t) => {
  await t.rejects(boot({ app, workers: 'many' }), { code: 'CORRAL_INVALID_OPTION' })
})

test('the CLI prints the bad option and exits non-zero', async (t) => {
  const cli = spawnNode(new URL('../bin/corral.js', import.meta.url).pathname, { args: ['start', fixture('cli-app.mjs'), '-i', 'lots'] })
  const { code } = await cli.exited
  t.equal(code, 1)
  t.match(cli.stderr, /Invalid option "workers"/)
})

test('the CLI without a command prints its usage', async (t) => {
  const cli = spawnNode(new URL('../bin/corral.js', import.meta.url).pathname, { args: [] })
  const { code } = await cli.exited
  t.equal(code, 2)
})
