// The worker's push timer, with a stand-in for cluster-boot's worker bus.
import { test } from 'tap'
import { Pusher } from '../dist/push.js'
import { sleep } from '@corral/test-helpers'

// a stand-in for the worker side of cluster-boot: its bus is all the Pusher uses
function fakeWorker (): any {
  const sent: any[] = []
  return { sent, bus: { send: (namespace, data) => { sent.push(data) }, deliver: async (namespace, data) => { sent.push(data); return true } } }
}

test('a collection slower than the interval does not pile up pushes', async (t) => {
  const worker = fakeWorker()
  let taking = 0
  let most = 0
  const take = async (): Promise<any> => {
    most = Math.max(most, ++taking)
    await sleep(100)
    taking--
    return { seq: worker.sent.length + 1 }
  }
  const durations: number[] = []
  const pusher = new Pusher(worker, take, (err) => t.fail(String(err)), (s) => durations.push(s))
  pusher.start(10)
  await sleep(450)
  t.equal(most, 1, 'never two periodic collections at once')
  await pusher.close()
  t.ok(worker.sent.length <= 6, `${worker.sent.length} pushes in 450 ms at 100 ms each, not one per 10 ms tick`)
  t.ok(durations.length >= 3 && durations.every((s) => s >= 0.09), 'each periodic push is measured')
})
