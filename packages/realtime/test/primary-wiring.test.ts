// The Socket.IO cluster adapter's relay runs in the primary: each worker's
// Socket.IO server asks cluster-boot for it (worker.usePrimary), so an app
// with no code in the primary works, and one that also registers
// realtimePrimary in boot({ primary }) gets it once, not twice.
import { test, type Test } from 'tap'
import { closeAll, hellos, sioClient, startCluster, waitFor, type Cluster, type SioClient } from './helpers.js'

const PLUGIN = '@corral/realtime-primary'

/** 20 Socket.IO clients, on both workers, that each get two broadcasts once and in order. */
async function everyClientOnce (t: Test, cluster: Cluster): Promise<void> {
  const clients: SioClient[] = Array.from({ length: 20 }, () => sioClient(cluster.port, { transports: ['websocket'] }))
  t.teardown(() => closeAll(clients))
  await Promise.all(clients.map((c) => hellos(c)))
  t.same([...new Set(clients.map((c) => c.slot))].sort(), [0, 1], 'the clients are on both workers')
  for (const text of ['first', 'second']) {
    t.equal((await cluster.broadcast({ text })).status, 200, `POST /broadcast "${text}"`)
    await waitFor(() => clients.every((c) => c.news.some((n) => n.text === text)), { timeout: 15_000, message: `every client to get "${text}"` })
  }
  // a second relay would deliver the first broadcast twice, before the second
  t.same(clients.filter((c) => c.news.map((n) => n.text).join() !== 'first,second').map((c) => c.news), [], 'every client got each broadcast once, in order')
}

test('with no code in the primary, the workers load the relay once and a broadcast reaches the Socket.IO clients of both workers', async (t) => {
  const cluster = await startCluster(t)
  const loaded = cluster.lines.filter((l) => l.msg === 'primary module loaded' && l.plugin === PLUGIN)
  t.equal(loaded.length, 1, 'loaded once for 2 workers')
  t.match(loaded[0], { module: /realtime\/dist\/primary\.js$/ }, 'from the package\'s ./primary')
  await everyClientOnce(t, cluster)
})

test('realtimePrimary registered by hand in boot({ primary }) as well is not registered a second time', async (t) => {
  const cluster = await startCluster(t, { PRIMARY_BY_HAND: '1' })
  t.same(cluster.lines.filter((l) => l.msg === 'primary module loaded'), [], 'the workers asked for nothing boot({ primary }) did not have')
  t.same(cluster.lines.filter((l) => (l.level as number) >= 40), [], 'no warning or error in the log')
  await everyClientOnce(t, cluster)
})
