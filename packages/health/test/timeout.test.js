import t from 'tap'
import Fastify from 'fastify'
import { corralHealth } from '@corral/health'

t.test('a hung check fails after its timeout and never hangs the endpoint', async (t) => {
  const app = Fastify()
  await app.register(corralHealth, {
    timeout: 300,
    checks: {
      hung: () => new Promise(() => {}),
      slowButOk: { check: () => new Promise((resolve) => setTimeout(resolve, 20)), timeout: 1000 }
    }
  })
  t.teardown(() => app.close())
  // a first request pays for Fastify's route and serializer set-up (30-100 ms on a loaded machine): not the check's time
  await app.inject('/health/live')
  const started = Date.now()
  const res = await app.inject('/health')
  const took = Date.now() - started
  t.equal(res.statusCode, 503)
  // the hung check never settles: an answer at all proves the endpoint did not wait for it; the timeout set the time
  t.ok(took >= 290, `answered after the 300 ms timeout (${took} ms), not before`)
  t.match(res.json().checks['hung:status'][0], { status: 'fail', output: 'check timed out after 300 ms' })
  t.equal(res.json().checks['slowButOk:status'][0].status, 'pass')
})

t.test('a check that throws synchronously fails like one that rejects', async (t) => {
  const app = Fastify()
  await app.register(corralHealth, { checks: { sync: () => { throw new Error('boom') }, odd: () => 'not an object' } })
  t.teardown(() => app.close())
  const body = (await app.inject('/health')).json()
  t.match(body.checks['sync:status'][0], { status: 'fail', output: 'boom' })
  t.equal(body.checks['odd:status'][0].status, 'pass')
})
