import { test } from 'tap'
import { freePort, request, spawnNode, waitFor } from '@corral/test-helpers'
import { fixture } from './fixtures/cluster.js'

const cli = new URL('../bin/corral.js', import.meta.url).pathname

test('corral start serves an app module on every worker and stops on SIGTERM', async (t) => {
  const port = await freePort()
  const proc = spawnNode(cli, { args: ['start', fixture('cli-app.mjs'), '-i', '2', '-p', String(port)] })
  t.teardown(() => proc.stop('SIGTERM'))
  await proc.waitForLine((l) => l.msg === 'all workers ready')
  const slots = new Set()
  await waitFor(async () => {
    slots.add((await request(`http://127.0.0.1:${port}/`)).body.slot)
    return slots.size === 2
  }, { message: 'both slots to answer' })
  t.same([...slots].sort(), [0, 1])
  proc.child.kill('SIGTERM')
  t.equal((await proc.exited).code, 0)
})

test('corral reload asks the admin server for a rolling reload', async (t) => {
  const port = await freePort()
  const adminPort = await freePort()
  const proc = spawnNode(cli, { args: ['start', fixture('cli-app.mjs'), '-i', '1', '-p', String(port), '--admin-port', String(adminPort)] })
  t.teardown(() => proc.stop('SIGTERM'))
  await proc.waitForLine((l) => l.msg === 'all workers ready')
  const before = (await request(`http://127.0.0.1:${port}/`)).body.pid

  const reload = spawnNode(cli, { args: ['reload', '--admin-port', String(adminPort)] })
  t.equal((await reload.exited).code, 0)
  t.match(reload.lines[0], { ok: true, replaced: [0] })
  t.not((await request(`http://127.0.0.1:${port}/`)).body.pid, before, 'a new worker serves')
  await proc.stop('SIGTERM')

  const unreachable = spawnNode(cli, { args: ['reload', '--admin-port', String(adminPort)] })
  t.equal((await unreachable.exited).code, 1)
  t.match(unreachable.stderr, /cannot reach the admin server/)
})

test('corral start refuses a module without a factory', async (t) => {
  const port = await freePort()
  const proc = spawnNode(cli, { args: ['start', fixture('no-factory.mjs'), '-i', '1', '-p', String(port), '--max-restarts', '3', '--restart-delay', '20'], env: {} })
  t.teardown(() => proc.stop('SIGTERM'))
  const { code } = await proc.exited
  t.equal(code, 1, 'it stops at once')
  t.equal(proc.lines.filter((l) => /must export a function/.test(l.msg ?? '')).length, 1, 'and says what is wrong, once')
})
