import { test } from 'tap'
import { startCluster } from './fixtures/cluster.js'

const inFlight = (l) => l.fixture && l.event === 'slow request'

test('SIGTERM lets an in-flight request finish, runs onClose hooks and exits 0', async (t) => {
  const { get, proc } = await startCluster(t)
  const slow = get('/slow?ms=1500')
  await proc.waitForLine(inFlight)
  proc.child.kill('SIGTERM')

  const res = await slow
  t.equal(res.status, 200, 'the slow request completed')
  t.equal(res.body.slow, true)
  const { code } = await proc.exited
  t.equal(code, 0, 'the primary exits 0')
  t.equal(proc.lines.filter((l) => l.fixture && l.event === 'onClose').length, 2, 'every worker ran its onClose hooks')
  t.equal(proc.lines.filter((l) => l.msg === 'worker exited' && l.code === 0).length, 2, 'every worker exited 0')
  t.notOk(proc.lines.some((l) => l.msg === 'worker died'), 'no worker counted as crashed')
  // every worker line is tagged with its slot by the primary's log capture: the hooks' lines only
  const order = proc.lines.filter((l) => l.fixture && l.slot === 0 && ['onDrain', 'onClose'].includes(l.event)).map((l) => l.event)
  t.same(order, ['onDrain', 'onClose'], 'drain hooks run before the app closes')
  t.ok(proc.lines.find((l) => l.event === 'onDrain')?.draining, 'worker.draining is already true in them')
})

test('a drain hook that throws is logged and the worker still stops cleanly', async (t) => {
  const { proc } = await startCluster(t, { opts: { workers: 1 }, env: { FIXTURE_DRAIN_THROWS: '1' } })
  proc.child.kill('SIGTERM')
  t.equal((await proc.exited).code, 0)
  t.ok(proc.lines.some((l) => l.msg === 'drain hook failed' && /blew up/.test(l.err.message)))
  t.ok(proc.lines.some((l) => l.event === 'onClose'), 'onClose hooks still ran')
})

test('a worker that outlives killTimeout is killed and the primary still exits', async (t) => {
  const { get, proc } = await startCluster(t, { opts: { killTimeout: 300 } })
  const slow = get('/slow?ms=5000').catch((err) => err)
  await proc.waitForLine(inFlight)
  proc.child.kill('SIGTERM')
  const { code } = await proc.exited
  t.equal(code, 0)
  t.ok(proc.lines.some((l) => l.msg === 'worker still running after killTimeout: SIGKILL'), 'the straggler was killed')
  t.ok((await slow) instanceof Error, 'its request was cut off')
})

test('keep-alive clients get Connection: close while a worker drains', async (t) => {
  const { proc, port } = await startCluster(t, { opts: { workers: 1 } })
  const http = await import('node:http')
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const ask = (path) => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.headers.connection))
    }).on('error', reject)
  })
  t.equal(await ask('/'), 'keep-alive')
  const slow = ask('/slow?ms=800')
  await proc.waitForLine(inFlight)
  proc.child.kill('SIGTERM')
  await slow
  t.equal(await ask('/'), 'close', 'the next answer on the kept-alive socket says close')
  agent.destroy()
  t.equal((await proc.exited).code, 0)
})
