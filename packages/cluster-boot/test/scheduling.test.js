import { test } from 'tap'
import { chooseScheduling, reusePortSupported } from '@corral/cluster-boot'
import { waitFor } from '../../../test/helpers/index.js'
import { startCluster } from './fixtures/cluster.js'

test('reuseport needs Node 22.12+ (or 23.1+) on Linux', async (t) => {
  t.equal(reusePortSupported('20.20.2', 'linux'), false)
  t.equal(reusePortSupported('22.11.0', 'linux'), false)
  t.equal(reusePortSupported('22.12.0', 'linux'), true)
  t.equal(reusePortSupported('23.0.0', 'linux'), false)
  t.equal(reusePortSupported('23.1.0', 'linux'), true)
  t.equal(reusePortSupported('24.0.0', 'linux'), true)
  t.equal(reusePortSupported('24.0.0', 'darwin'), false)
})

test("the default, 'auto', is 'reuseport' where the platform has it and 'none' elsewhere: the primary stays out of the accept path", async (t) => {
  t.equal(chooseScheduling('auto', true), 'reuseport')
  t.equal(chooseScheduling('auto', false), 'none')
  t.equal(chooseScheduling('reuseport', false), 'none')
  for (const mode of ['rr', 'none', 'sticky']) t.equal(chooseScheduling(mode, true), mode, `${mode} is kept`)
  const { get, proc } = await startCluster(t)
  t.equal(proc.lines.find((l) => l.msg === 'starting workers').scheduling, reusePortSupported() ? 'reuseport' : 'none')
  t.equal(proc.lines.filter((l) => /needs Node >= 22\.12/.test(l.msg ?? '')).length, 0, 'no warning for the default')
  t.equal((await get('/')).status, 200)
})

test("scheduling 'reuseport' serves on every worker, or falls back to none with one warning", async (t) => {
  const { get, proc } = await startCluster(t, { opts: { scheduling: 'reuseport' } })
  const warnings = proc.lines.filter((l) => /needs Node >= 22\.12/.test(l.msg ?? ''))
  const started = proc.lines.find((l) => l.msg === 'starting workers')
  if (reusePortSupported()) {
    t.equal(warnings.length, 0)
    t.equal(started.scheduling, 'reuseport')
  } else {
    t.equal(warnings.length, 1, 'one warning')
    t.equal(warnings[0].level, 40)
    t.equal(started.scheduling, 'none', 'and none instead')
  }
  const slots = new Set()
  await waitFor(async () => { slots.add((await get('/')).body.slot); return slots.size === 2 }, { message: 'both workers to answer' })
  t.pass('both workers answer')
})

test("scheduling 'none' leaves the spreading to the OS", async (t) => {
  const { get, proc } = await startCluster(t, { opts: { scheduling: 'none' } })
  t.equal(proc.lines.find((l) => l.msg === 'starting workers').scheduling, 'none')
  t.equal((await get('/')).status, 200)
})
