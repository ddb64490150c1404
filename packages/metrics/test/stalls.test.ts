import { test } from 'tap'
import { sleep, waitFor } from '@corral/test-helpers'
import { sample, startCluster } from './fixtures/cluster.js'

test('an event-loop stall shows in the next scrape however long after it ended, and a blocked worker shows while blocked', async (t) => {
  const { get, admin, scrape } = await startCluster(t)
  await scrape()
  // blocked for 3 s: seen while blocked however slowly this process gets to look
  const { body } = await get('/block?ms=3000')
  const slot = (await admin('/workers')).body.workers.find((w) => w.pid === body.pid).slot
  const worker = String(slot)

  // while it is blocked: its last push grows old, in /metrics and in /workers (a timeout here fails the test)
  const during = await waitFor(async () => {
    const age = sample(await scrape(), 'corral_worker_last_push_age_seconds', { worker })
    const lastPush = (await admin('/workers')).body.workers.find((w) => w.pid === body.pid).lastPush
    return age >= 0.7 && lastPush >= 700 && { age, lastPush }
  }, { message: 'the blocked worker\'s last push 0.7 s old in /metrics and /workers' })
  t.pass(`the blocked worker's last push is ${during.age} s old, and /workers says ${during.lastPush} ms`)

  // dozens of pushes after the stall, one scrape: the stall is in it
  await waitFor(async () => (await admin('/workers')).body.workers.find((w) => w.pid === body.pid).lastPush < 500, { message: 'the worker pushing again' })
  await sleep(3000)
  const after = await scrape()
  const lag = sample(after, 'nodejs_eventloop_lag_max_seconds', { worker })
  t.ok(lag >= 1.3, `the longest delay since the previous scrape is the stall (${lag} s)`)
  const stalled = sample(after, 'nodejs_eventloop_stalled_seconds_total')
  t.ok(stalled >= 1.3, `stalled seconds counted (${stalled} s)`)
  t.ok(sample(after, 'nodejs_eventloop_stalls_total') >= 1, 'one stall at least')

  const next = await scrape()
  t.ok(sample(next, 'nodejs_eventloop_lag_max_seconds', { worker }) < 1, 'the scrape after starts over')
  t.ok(sample(next, 'nodejs_eventloop_stalled_seconds_total') >= stalled, 'while the stalled time only grows')
})
