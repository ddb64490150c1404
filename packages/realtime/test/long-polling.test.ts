// socket.io-client on HTTP long-polling against 2 workers: every poll is a
// new connection. Under round-robin they land on either worker and the one
// that did not hand out the session id refuses it; with sticky routing each
// client's requests reach one worker.
import { test } from 'tap'
import { closeAll, hellos, sioClient, startCluster, waitFor, type SioClient } from './helpers.js'

const ROUND_TRIPS = 20

async function roundTrips (client: SioClient): Promise<number> {
  let done = 0
  for (let i = 0; i < ROUND_TRIPS; i++) {
    try {
      const answer = await client.socket.timeout(5000).emitWithAck('echo', i)
      if (answer === i) done++
      else client.errors.push(`echo ${i} answered ${JSON.stringify(answer)}`)
    } catch (err) {
      // a client whose session was refused has nothing more to try
      client.errors.push(`echo ${i}: ${(err as Error).message}`)
      break
    }
  }
  return done
}

test("round-robin: long-polling clients fail with 'Session ID unknown'", async (t) => {
  const cluster = await startCluster(t, { SCHEDULING: 'rr' })
  const clients = Array.from({ length: 20 }, () => sioClient(cluster.port, { transports: ['polling'], reconnection: false }))
  t.teardown(() => closeAll(clients))
  // each client either connects or fails; a failed one does not retry
  await waitFor(() => clients.every((c) => c.errors.length > 0 || c.socket.connected), { timeout: 20_000, message: 'every client connected or failed' })
  await Promise.all(clients.filter((c) => c.socket.connected).map(roundTrips))
  const failed = clients.filter((c) => c.errors.length > 0)
  t.ok(failed.length > 0, `${failed.length} of ${clients.length} clients failed`)
  t.ok(failed.some((c) => c.errors.some((e) => e.includes('Session ID unknown'))), 'the worker that did not issue the session id refused it')
})

test(`sticky: 200 long-polling clients on 2 workers complete ${ROUND_TRIPS} round trips each with 0 errors, and a broadcast reaches all`, async (t) => {
  const cluster = await startCluster(t, { SCHEDULING: 'sticky' })
  // one client address each (all loopback), so the clients hash to both slots
  const addresses = Array.from({ length: 200 }, (_, i) => `127.0.${1 + Math.floor(i / 100)}.${1 + (i % 100)}`)
  const clients = addresses.map((localAddress) => sioClient(cluster.port, { transports: ['polling'], reconnection: false, localAddress }))
  t.teardown(() => closeAll(clients))
  await Promise.all(clients.map((c) => hellos(c, 1, 30_000)))
  t.same([...new Set(clients.map((c) => c.slot))].sort(), [0, 1], 'the addresses hash to both workers')

  const done = await Promise.all(clients.map(roundTrips))
  t.equal(done.reduce((a, b) => a + b, 0), clients.length * ROUND_TRIPS, `${clients.length * ROUND_TRIPS} round trips`)
  t.same(clients.flatMap((c) => c.errors), [], 'no errors')

  // published on one worker; the cluster adapter brings it to the other's clients
  const res = await cluster.broadcast({ text: 'to every client' })
  t.equal(res.status, 200)
  await waitFor(() => clients.every((c) => c.news.length > 0), { timeout: 15_000, message: 'every client to get the broadcast' })
  t.equal(clients.filter((c) => c.news[0]?.text === 'to every client').length, clients.length, 'all got it once')
  t.same(clients.flatMap((c) => c.errors), [], 'still no errors')
})
