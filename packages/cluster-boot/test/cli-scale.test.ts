// corral scale when it cannot do what it is asked: a new worker never ready, sticky scheduling.
import { test } from 'tap'
import { corral, pidsOf, rowsOf, startApp } from './fixtures/cli-driver.js'

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
