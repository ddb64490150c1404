import net from 'node:net'
import { test } from 'tap'
import { freePort, spawnNode } from '@corral/test-helpers'
import { fixture, startCluster } from './fixtures/cluster.js'

test('a second SIGTERM while stopping kills the workers at once, and the primary exits 1', async (t) => {
  const { proc, get } = await startCluster(t, { opts: { killTimeout: 20_000 } })
  // a request in flight keeps the graceful stop going
  const slow = get('/slow?ms=10000').catch((err) => err)
  await proc.waitForLine((l) => l.fixture && l.event === 'slow request')
  proc.child.kill('SIGTERM')
  await proc.waitForLine((l) => l.msg === 'stopping: draining workers')
  proc.child.kill('SIGTERM')
  const { code } = await proc.exited
  t.ok(proc.lines.some((l) => l.msg === 'second signal: killing workers now' && l.signal === 'SIGTERM'), 'said so')
  t.equal(code, 1)
  await slow
})

test("under 'sticky', a port in use fails the start before any worker, naming the balancer", async (t) => {
  const port = await freePort()
  const blocker = net.createServer()
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve))
  t.teardown(() => blocker.close())
  const adminPort = await freePort()
  const proc = spawnNode(fixture('app.mjs'), { env: { PORT: String(port), FIXTURE_OPTS: JSON.stringify({ scheduling: 'sticky', admin: { port: adminPort } }) } })
  t.teardown(() => proc.stop('SIGKILL'))
  const fatal = await proc.waitForLine((l) => l.msg === 'sticky balancer could not listen')
  t.match(fatal, { port, err: { code: 'EADDRINUSE' } })
  t.not((await proc.exited).code, 0)
})
