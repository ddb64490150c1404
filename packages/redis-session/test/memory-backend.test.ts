import t from 'tap'
import { mock } from 'node:test'
import { MemorySessionBackend } from '../dist/session/memory-backend.js'

t.test('the in-memory backend expires, slides, bounds and indexes', async (t) => {
  // the test's own clock (Date and the sweep's interval): a session expires when
  // the test moves time past its TTL, not when a loaded machine is slow to wake it
  mock.timers.enable({ apis: ['Date', 'setInterval'], now: 0 })
  t.teardown(() => mock.timers.reset())
  const backend = new MemorySessionBackend({ maxSessions: 3, sweepInterval: 20 })
  t.teardown(() => backend.close())
  await backend.set('a', '{"n":1}', 50, 'create', 'alice')
  t.equal(await backend.get('a', 50), '{"n":1}')
  mock.timers.tick(30)
  await backend.touch('a', 200)
  mock.timers.tick(40)
  t.equal(await backend.get('a', 200), '{"n":1}', 'touch kept it past its first TTL')
  await backend.set('b', '{}', 30, 'create')
  mock.timers.tick(80)
  t.equal(backend.size, 1, 'swept')
  t.equal(await backend.get('b', 30), null)
  mock.timers.tick(200)
  t.equal(await backend.get('a', 200), null, 'expired once its TTL passed')
  await backend.set('a', '{"n":1}', 1000, 'create', 'alice')

  await backend.set('c', '{}', 1000, 'create', 'alice')
  await backend.set('d', '{}', 1000, 'create')
  await backend.get('a', 1000) // now the most recently used
  await backend.set('e', '{}', 1000, 'create')
  t.equal(backend.size, 3)
  t.equal(await backend.get('c', 1000), null, 'the least recently used went first')
  t.equal(await backend.destroyAll('alice'), 1, 'the evicted one left the index')
  t.equal(await backend.destroyAll('alice'), 0)
  await backend.touch('gone', 10)
  await backend.keepIndex()
})
