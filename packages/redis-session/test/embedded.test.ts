import t from 'tap'
import { REDIS_URL, freePort, request, spawnNode, visitBothWorkers } from '@corral/test-helpers'
import { buildSessionApp, sessionCookie } from './fixtures/session-app.js'
import { redisFor, uniquePrefix } from './fixtures/redis.js'

const fixture = new URL('./fixtures/session-cluster.mjs', import.meta.url).pathname

async function startCluster (t, env = {}) {
  const port = await freePort()
  const proc = spawnNode(fixture, { env: { PORT: String(port), ...env } })
  t.teardown(() => proc.stop())
  await proc.waitForLine((l) => l.msg === 'all workers ready')
  return { proc, url: `http://127.0.0.1:${port}` }
}

t.test('without Redis, the workers share sessions kept in the primary', async (t) => {
  const { proc, url } = await startCluster(t)
  const said = proc.lines.filter((l) => l.store !== undefined)
  t.equal(said.length, 2, 'each worker says once which store it uses')
  t.ok(said.every((l) => l.store === 'primary'))
  const cookie = await visitBothWorkers(t, url)

  const second = sessionCookie(await request(`${url}/login`, { method: 'POST', body: { user: 'alice' } }))
  const out = await request(`${url}/logout-all`, { method: 'POST', headers: { cookie } })
  t.same(out.body, { removed: 2 })
  t.same((await request(`${url}/me`, { headers: { cookie: second } })).body, { user: null })
})

t.test('the primary refuses malformed store requests and goes on serving', async (t) => {
  const { url } = await startCluster(t)
  const res = await request(`${url}/malformed`)
  t.same(res.body, Array(6).fill('CORRAL_IPC_REMOTE'))
  await visitBothWorkers(t, url)
})

t.test('with Redis, the workers share sessions in Redis', async (t) => {
  const prefix = uniquePrefix('cluster')
  redisFor(t, prefix)
  const { proc, url } = await startCluster(t, { SESSION_REDIS: REDIS_URL, PREFIX: prefix })
  t.ok(proc.lines.filter((l) => l.store !== undefined).every((l) => l.store === 'redis'))
  await visitBothWorkers(t, url)
})

t.test('in a single process without Redis, sessions live in memory', async (t) => {
  const app = await buildSessionApp()
  t.teardown(() => app.close())
  t.equal(app.sessions.kind, 'memory')
  const cookie = sessionCookie(await app.inject({ method: 'POST', url: '/login', payload: { user: 'alice' } }))
  t.same((await app.inject({ url: '/me', headers: { cookie } })).json(), { user: 'alice', visits: 1, slot: null })
  t.equal(await app.sessions.destroyAllFor('alice'), 1)
  t.same((await app.inject({ url: '/me', headers: { cookie } })).json(), { user: null })
})
