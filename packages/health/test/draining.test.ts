import t from 'tap'
import Fastify from 'fastify'
import { corralHealth } from '@corral/health'
import { freePort, request, sleep } from '@corral/test-helpers'

t.test('shutdown(): readiness turns 503 at once, the server keeps serving for shutdownDelay, then closes', async (t) => {
  const app = Fastify()
  await app.register(corralHealth, { shutdownDelay: 400 })
  app.get('/work', async () => 'done')
  const port = await freePort()
  await app.listen({ port, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${port}`
  t.equal((await request(`${url}/health/ready`)).status, 200)

  const closing = app.health.shutdown()
  await sleep(50)
  t.ok(app.health.draining)
  const ready = await request(`${url}/health/ready`)
  t.equal(ready.status, 503, 'the balancer is told first')
  t.same(ready.body, { status: 'fail' })
  t.equal((await request(`${url}/health`)).body.notes[0], 'draining: shutting down')
  t.equal((await request(`${url}/health/live`)).status, 200, 'still alive')
  t.equal((await request(`${url}/work`)).status, 200, 'and still serving')
  await closing
  await t.rejects(request(`${url}/work`), { code: 'ECONNREFUSED' }, 'closed after the delay')
})

t.test('a plain close() marks the instance draining', async (t) => {
  const app = Fastify()
  await app.register(corralHealth)
  await app.ready()
  t.notOk(app.health.draining)
  await app.close()
  t.ok(app.health.draining)
})

t.test('shutdown() called again while draining closes once, without an error', async (t) => {
  const app = Fastify()
  await app.register(corralHealth, { shutdownDelay: 100 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const results = await Promise.allSettled([app.health.shutdown(), app.health.shutdown()])
  t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled'])
  t.ok(app.health.draining)
  t.equal(app.server.listening, false, 'closed')
})
