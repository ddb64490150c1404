import t from 'tap'
import Fastify from 'fastify'
import pg from 'pg'
import { corralHealth, postgresCheck } from '@corral/health'
import { DATABASE_URL, sleep } from '@corral/test-helpers'

t.test('1000 concurrent probes reach the database once per cache interval', async (t) => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 5 })
  t.teardown(() => pool.end())
  let queries = 0
  const counted = { query: (text) => { queries++; return pool.query(text) } }
  const app = Fastify()
  // an interval longer than the storm takes on a loaded machine (1000 injects took over 300 ms at load 12)
  await app.register(corralHealth, { checkInterval: 1500, checks: { db: postgresCheck(counted) } })
  t.teardown(() => app.close())

  const probes = await Promise.all(Array.from({ length: 1000 }, (_, i) => app.inject(i % 2 ? '/health/ready' : '/health')))
  t.ok(probes.every((r) => r.statusCode === 200))
  t.equal(queries, 1, 'one query for the whole storm')

  await Promise.all(Array.from({ length: 200 }, () => app.inject('/health/ready')))
  t.equal(queries, 1, 'still cached')
  await sleep(1550)
  await Promise.all(Array.from({ length: 200 }, () => app.inject('/health/ready')))
  t.equal(queries, 2, 'one more after the interval')
})
