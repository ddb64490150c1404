import { test } from 'tap'
import { eventLoopMonitor, STALL_MS } from '@corral/cluster-boot'

function block (ms) {
  const until = Date.now() + ms
  while (Date.now() < until);
}

test('one event-loop monitor per process, whoever asks', async (t) => {
  t.equal(eventLoopMonitor(), eventLoopMonitor())
})

test('a stall that just ended is in the next read, before the sampling timer has fired again', async (t) => {
  const loop = eventLoopMonitor().reader()
  t.teardown(() => loop.close())
  loop.read()
  block(300)
  const { maxDelay } = loop.read()
  t.ok(maxDelay >= 250, `the 300 ms block is seen at once (${maxDelay.toFixed(1)} ms)`)
})

test('every reader sees a stall: one reading does not hide it from another', async (t) => {
  const monitor = eventLoopMonitor()
  const stats = monitor.reader()
  const metrics = monitor.reader()
  t.teardown(() => { stats.close(); metrics.close() })
  const stallsBefore = monitor.stalls
  const secondsBefore = monitor.stalledSeconds
  block(250)
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok(stats.read().maxDelay >= 200, 'the first reader sees it')
  t.ok(metrics.read().maxDelay >= 200, 'and so does the second, read after it')
  t.ok(stats.read().maxDelay < 200, 'a reader sees it once: its next read covers only what came after')
  t.equal(monitor.stalls, stallsBefore + 1, `one stall of ${STALL_MS} ms or more counted`)
  t.ok(monitor.stalledSeconds - secondsBefore >= 0.2, 'its time added up')
})

test('utilisation and mean delay cover the time since the reader\'s last read', async (t) => {
  const loop = eventLoopMonitor().reader()
  t.teardown(() => loop.close())
  loop.read()
  await new Promise((resolve) => setTimeout(resolve, 200))
  const idle = loop.read()
  t.ok(idle.utilization < 0.5, `an idle loop is mostly idle (${idle.utilization.toFixed(2)})`)
  t.ok(idle.meanDelay >= 0 && idle.meanDelay <= idle.maxDelay, 'the mean is within the max')
  block(150)
  const busy = loop.read()
  t.ok(busy.utilization > 0.5, `a blocked loop is busy (${busy.utilization.toFixed(2)})`)
})
