import t from 'tap'
import Fastify from 'fastify'
import { redisSession } from '@corral/redis-session'
import { REDIS_URL, assertDecorated, freePort, gated, request, sleep, spawnNode, waitFor } from '@corral/test-helpers'
import { SECRET } from './fixtures/session-app.js'
import { redisFor, uniquePrefix } from './fixtures/redis.js'

async function appWithCache (t, options = {}) {
  const app = Fastify({ logger: false })
  await app.register(redisSession, { secret: SECRET, bus: false, ...options })
  t.teardown(() => app.close())
  return app
}

/** `promise`, or 'hung' after `ms`: a test that fails instead of hanging. */
const within = (promise, ms = 5000) => Promise.race([promise, sleep(ms).then(() => 'hung')])

for (const backend of ['memory', 'redis']) {
  const options = (prefix: string, cache?: object) => ({ ...(backend === 'redis' ? { redis: REDIS_URL, keyPrefix: prefix } : {}), cache })

  t.test(`${backend}: an origin that hangs holds up the other callers of its key at most waitTimeout`, async (t) => {
    const prefix = uniquePrefix('hang')
    if (backend === 'redis') redisFor(t, prefix)
    const app = await appWithCache(t, options(prefix, { waitTimeout: 200 }))
    assertDecorated(app, 'cache')
    // an origin that hangs until teardown
    const hung = gated('released')
    t.teardown(hung.release)
    app.cache.wrap('k', hung.origin)
    await hung.started
    const followers = Promise.all([1, 2, 3].map((n) => app.cache.wrap('k', async () => `own ${n}`)))
    t.same(await within(followers), ['own 1', 'own 2', 'own 3'], 'each follower gave up waiting and called the origin')
  })

  t.test(`${backend}: a del during a computation is not undone by its result`, async (t) => {
    const prefix = uniquePrefix('del-during')
    if (backend === 'redis') redisFor(t, prefix)
    const app = await appWithCache(t, options(prefix))
    assertDecorated(app, 'cache')
    // the origin runs until the delete is done
    const { started, release, origin } = gated('stale')
    const leader = app.cache.wrap('k', origin)
    await started
    await app.cache.del('k')
    release()
    t.equal(await leader, 'stale', 'the caller gets its value')
    t.equal(await app.cache.get('k'), undefined, 'but it is not stored over the delete')
    t.equal(await app.cache.wrap('k', async () => 'fresh'), 'fresh')
  })
}

t.test('redis: a slow origin keeps its lock past lockTtl: a follower on another machine waits for its value', async (t) => {
  const prefix = uniquePrefix('renew')
  redisFor(t, prefix)
  const cache = { lockTtl: 300, waitTimeout: 4000 }
  const a = await appWithCache(t, { redis: REDIS_URL, keyPrefix: prefix, cache })
  assertDecorated(a, 'cache')
  const b = await appWithCache(t, { redis: REDIS_URL, keyPrefix: prefix, cache })
  assertDecorated(b, 'cache')
  let calls = 0
  const origin = async () => { calls++; await sleep(1200); return { n: calls } }
  let running = (): void => {}
  const leading = new Promise<void>((resolve) => { running = resolve })
  const leader = a.cache.wrap('k', async () => { running(); return await origin() })
  await leading
  const follower = await b.cache.wrap('k', origin)
  t.same(await leader, { n: 1 })
  t.same(follower, { n: 1 }, 'the follower got the leader\'s value')
  t.equal(calls, 1, 'the origin ran once')
})

t.test('primary: a del during a computation is not undone by its result', async (t) => {
  const prefix = uniquePrefix('del-primary')
  redisFor(t, prefix)
  const port = await freePort()
  const proc = spawnNode(new URL('./fixtures/shared-cluster.mjs', import.meta.url).pathname, { env: { PORT: String(port), PREFIX: prefix, REDIS_URL } })
  t.teardown(() => proc.stop())
  const url = `http://127.0.0.1:${port}`
  await waitFor(async () => (await request(`${url}/get/x`)).status === 200, { timeout: 60_000, message: 'cluster up' })
  // the origin takes 200 ms
  const leader = request(`${url}/wrap/k`)
  await sleep(80)
  t.equal((await request(`${url}/del/k`, { method: 'POST' })).status, 200)
  t.equal((await leader).status, 200, 'the caller gets its value')
  await sleep(50)
  t.same((await request(`${url}/get/k`)).body, { value: null }, 'but it is not stored over the delete')
})
