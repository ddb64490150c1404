import net from 'node:net'
import { test } from 'tap'
import { freePort, spawnNode } from '@corral/test-helpers'
import { fixture, startCluster } from './fixtures/cluster.js'

// what a person starting the app sees: the error once, last, and exit 1 without a round of respawns
async function startsAndFails (t, { opts = {}, env = {}, port }: { opts?: object, env?: Record<string, string>, port?: number } = {}) {
  let proc
  if (port === undefined) {
    ({ proc } = await startCluster(t, { opts, env, waitReady: false }))
  } else {
    proc = spawnNode(fixture('app.mjs'), { env: { PORT: String(port), FIXTURE_OPTS: JSON.stringify(opts), ...env } })
    t.teardown(() => proc.stop('SIGKILL'))
  }
  const { code } = await proc.exited
  t.equal(code, 1, 'exit 1')
  const fatal = proc.lines.filter((l) => l.level === 60)
  t.equal(fatal.length, 1, 'one fatal line')
  t.equal(proc.lines.filter((l) => l.msg !== undefined).at(-1), fatal[0], 'and it is the last line')
  const forks = proc.lines.filter((l) => l.msg === 'worker forked').length
  t.ok(forks <= 3, `no round of respawns (${forks} forks for 2 slots)`)
  return fatal[0]
}

test('an app that throws at start-up stops the primary at once with the error, once', async (t) => {
  const fatal = await startsAndFails(t, { env: { FIXTURE_THROW: '1' } })
  t.match(fatal, { msg: 'Cannot start: boom at start-up', code: 'CORRAL_STARTUP_FAILED' })
})

test('a missing file stops the primary at once, naming the file', async (t) => {
  const fatal = await startsAndFails(t, { env: { FIXTURE_IMPORT: '/nonexistent/corral-missing-app.mjs' } })
  t.match(fatal.msg, /Cannot start: .*\/nonexistent\/corral-missing-app\.mjs/)
  t.match(fatal.cause, { code: 'ERR_MODULE_NOT_FOUND' })
})

test('a factory that returns nothing says it is not a Fastify instance', async (t) => {
  const fatal = await startsAndFails(t, { env: { FIXTURE_RETURN: 'nothing' } })
  t.match(fatal.msg, /option "app".*returned undefined, not a Fastify instance/)
  t.match(fatal.cause, { code: 'CORRAL_APP_NOT_FASTIFY' })
})

test('a factory that returns another object says it is not a Fastify instance', async (t) => {
  const fatal = await startsAndFails(t, { env: { FIXTURE_RETURN: 'object' } })
  t.match(fatal.msg, /returned an object \(listen\), not a Fastify instance/)
})

test('a port in use stops the primary at once, naming the port', async (t) => {
  const port = await freePort()
  const blocker = net.createServer()
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve))
  t.teardown(() => blocker.close())
  const fatal = await startsAndFails(t, { port })
  t.match(fatal.msg, new RegExp(`port ${port} on 127.0.0.1 is already in use \\(option "port"`))
  t.match(fatal.cause, { code: 'EADDRINUSE' })
})
