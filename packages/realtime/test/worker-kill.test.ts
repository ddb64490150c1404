// A worker SIGKILLed with clients connected (sticky scheduling, keyed on the
// client address): its clients reconnect to the live worker; once its slot
// has a worker again, new clients of its keys land there again.
import { test } from 'tap'
import { closeAll, hellos, sioClient, startCluster, waitFor, wsClient, type WsClient } from './helpers.js'

test('a SIGKILLed worker: its clients reconnect to the live worker, and its keys come back to the slot once it is respawned', async (t) => {
  // a slow respawn, so the clients reconnect while the slot has no worker
  const cluster = await startCluster(t, { SCHEDULING: 'sticky', RESTART_DELAY: '2000' })
  const addresses = Array.from({ length: 40 }, (_, i) => `127.0.3.${i + 1}`)
  const ws: WsClient[] = []
  for (const localAddress of addresses) ws.push(await wsClient(cluster.port, { reconnect: true, localAddress }))
  t.teardown(() => closeAll(ws))
  const sio = addresses.slice(0, 10).map((localAddress) => sioClient(cluster.port, { transports: ['websocket'], localAddress }))
  t.teardown(() => closeAll(sio))
  await Promise.all(sio.map((c) => hellos(c)))
  t.same([...new Set(ws.map((c) => c.slot))].sort(), [0, 1], 'the addresses hash to both workers')

  const victim = (await cluster.workers()).find((w) => w.slot === 1) as { pid: number }
  const moved = ws.filter((c) => c.slot === 1)
  const movedSio = sio.filter((c) => c.slot === 1)
  t.ok(moved.length > 0 && movedSio.length > 0, `${moved.length} WebSocket and ${movedSio.length} Socket.IO clients on slot 1`)
  process.kill(victim.pid, 'SIGKILL')

  await waitFor(() => moved.every((c) => c.connects === 2 && c.socket.readyState === c.socket.OPEN), { timeout: 10_000, message: 'the killed worker\'s WebSocket clients to reconnect' })
  await Promise.all(movedSio.map((c) => hellos(c, 2)))
  t.ok(moved.every((c) => c.slot === 0), 'its WebSocket clients reconnected to the live worker')
  t.ok(movedSio.every((c) => c.slot === 0), 'its Socket.IO clients too')
  t.ok(ws.filter((c) => !moved.includes(c)).every((c) => c.connects === 1), "the live worker's clients never noticed")
  const rows = await cluster.workers()
  t.notOk(rows.some((w) => w.slot === 1 && w.state === 'ready'), 'they reconnected while the slot had no ready worker')

  const respawned = (await cluster.ready()).find((w) => w.slot === 1) as { pid: number }
  t.not(respawned.pid, victim.pid, 'slot 1 has a new worker')
  const again: WsClient[] = []
  for (const c of moved) {
    const address = addresses[ws.indexOf(c)]
    again.push(await wsClient(cluster.port, { localAddress: address }))
  }
  t.teardown(() => closeAll(again))
  t.ok(again.every((c) => c.slot === 1 && c.pid === respawned.pid), 'new clients of its keys land on the slot again')
  t.ok(moved.every((c) => c.slot === 0 && c.socket.readyState === c.socket.OPEN), 'the moved clients stay where they are')
})
