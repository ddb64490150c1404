import { test } from 'tap'
import { chooseScheduling, reusePortMigrates, reusePortSupported } from '@corral/cluster-boot'
import { waitFor } from '@corral/test-helpers'
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

test("the default, 'auto', keeps the primary out of the accept path and loses nothing queued on a reload: 'reuseport' only where the kernel migrates a closing listener's queue, else 'none'", async (t) => {
  t.equal(chooseScheduling('auto', true, true), 'reuseport')
  t.equal(chooseScheduling('auto', true, false), 'none', 'without tcp_migrate_req a reload resets queued connections')
  t.equal(chooseScheduling('auto', false, true), 'none')
  t.equal(chooseScheduling('reuseport', true, false), 'reuseport', 'asked for, it is kept (with a warning)')
  t.equal(chooseScheduling('reuseport', false, true), 'none')
  for (const mode of ['rr', 'none', 'sticky'] as const) t.equal(chooseScheduling(mode, true, true), mode, `${mode} is kept`)
  t.equal(reusePortMigrates(() => '1\n'), true)
  t.equal(reusePortMigrates(() => '0\n'), false)
  t.equal(reusePortMigrates(() => { throw new Error('ENOENT') }), false, 'no such sysctl: no migration')
  const { get, proc } = await startCluster(t)
  t.equal(proc.lines.find((l) => l.msg === 'starting workers')?.scheduling, reusePortSupported() && reusePortMigrates() ? 'reuseport' : 'none')
  t.equal(proc.lines.filter((l) => /needs Node >= 22\.12/.test(l.msg ?? '')).length, 0, 'no warning for the default')
  t.equal((await get('/')).status, 200)
})

test("scheduling 'reuseport' serves on every worker, or falls back to none with one warning", async (t) => {
  const { get, proc } = await startCluster(t, { opts: { scheduling: 'reuseport' } })
  const warnings = proc.lines.filter((l) => /needs Node >= 22\.12/.test(l.msg ?? ''))
  const started = proc.lines.find((l) => l.msg === 'starting workers')
  if (reusePortSupported()) {
    t.equal(warnings.length, 0)
    t.equal(started?.scheduling, 'reuseport')
    t.equal(proc.lines.filter((l) => /tcp_migrate_req/.test(l.msg ?? '')).length, reusePortMigrates() ? 0 : 1, 'a warning when reloads can reset queued connections')
  } else {
    t.equal(warnings.length, 1, 'one warning')
    t.equal(warnings[0].level, 40)
    t.equal(started?.scheduling, 'none', 'and none instead')
  }
  const slots = new Set()
  await waitFor(async () => { slots.add((await get('/')).body.slot); return slots.size === 2 }, { message: 'both workers to answer' })
  t.pass('both workers answer')
})

test("scheduling 'none' leaves the spreading to the OS", async (t) => {
  const { get, proc } = await startCluster(t, { opts: { scheduling: 'none' } })
  t.equal(proc.lines.find((l) => l.msg === 'starting workers')?.scheduling, 'none')
  t.equal((await get('/')).status, 200)
})
