import t from 'tap'
import calculateSlot from 'cluster-key-slot'
import { Cluster } from 'ioredis'
import { RedisStore } from '@corral/redis-session'
import { sleep, waitFor } from '@corral/test-helpers'
import { startRedisCluster } from '@corral/test-helpers/redis-cluster'
import { uniquePrefix } from './fixtures/redis.js'

const save = (store, id, session) => new Promise((resolve) => store.set(id, session, (err) => resolve(err ?? null)))

// Two workers (two clients, two connections to each master) on a 3-master
// Cluster. Writes are paused on a master that does not hold the user's index:
// login A's session key is there, so its SET waits while login B completes
// and forgets the user's dead sessions. A must not be taken for dead.
t.test('on a Redis Cluster, a login whose session write is slow is not pruned from the user index by another login', async (t) => {
  const { nodes, seeds, close } = await startRedisCluster({ masters: 3 })
  t.teardown(close)
  const prefix = uniquePrefix('cluster-index')
  const clients = [new Cluster(seeds), new Cluster(seeds), new Cluster(seeds)]
  t.teardown(() => Promise.all(clients.map((c) => c.quit())))
  await Promise.all(clients.map((c) => c.ping()))
  const [first, second, admin] = clients
  const nodeOf = (key) => admin.slots[calculateSlot(key)][0]
  const index = `${prefix}user:alice`
  const slow = nodes.find((n) => `127.0.0.1:${n.port}` !== nodeOf(index))
  if (slow === undefined) throw new Error('every node holds the index')
  const slowNode = `127.0.0.1:${slow.port}`
  let a = 0
  while (nodeOf(`${prefix}sess:a${a}`) !== slowNode) a++
  let b = 0
  while (nodeOf(`${prefix}sess:b${b}`) === slowNode) b++
  const storeA = new RedisStore({ client: first, prefix, userKey: 'user' })
  const storeB = new RedisStore({ client: second, prefix, userKey: 'user' })
  await slow.ask('CLIENT', 'PAUSE', '1500', 'WRITE')
  const held = save(storeA, `a${a}`, { user: 'alice' })
  await sleep(200)
  t.equal(await save(storeB, `b${b}`, { user: 'alice' }), null, 'the other login is stored')
  t.equal(await held, null, 'the slow login is stored')
  await sleep(300)
  t.equal(await admin.exists(`${prefix}sess:a${a}`), 1, 'its session exists')
  await waitFor(async () => (await admin.scard(index)) >= 2, { timeout: 3000, message: 'both listed' }).catch(() => {})
  t.same((await admin.smembers(index)).sort(), [`a${a}`, `b${b}`], 'both logins listed in the index')
})
