// POST /scale on the admin server: guarded like /reload, the count checked, slots added and removed.
import { test } from 'tap'
import { request } from '@corral/test-helpers'
import { startCluster } from './fixtures/cluster.js'

const TOKEN = 'test-admin-token-0123456789abcdef'

test('POST /scale needs the token, a Host naming the server and a deliberate request, like /reload', async (t) => {
  const { adminPort } = await startCluster(t, { opts: { workers: 1 }, env: { CORRAL_ADMIN_TOKEN: TOKEN } })
  // raw requests: the fixture's admin() adds the admin header
  const post = (headers: Record<string, string>, body: unknown = { workers: 2 }): Promise<{ status: number, body: any }> =>
    request(`http://127.0.0.1:${adminPort}/scale`, { method: 'POST', headers, body })
  const auth = { authorization: `Bearer ${TOKEN}` }
  const slots = async (): Promise<number> => (await request(`http://127.0.0.1:${adminPort}/supervisor`, { headers: auth })).body.slots.length

  t.equal((await post({ 'x-corral-admin': '1' })).status, 401, 'no token')
  t.equal((await post({ ...auth, host: 'evil.example' })).status, 421, 'another Host')
  const form = await post({ ...auth, 'content-type': 'application/x-www-form-urlencoded' }, 'workers=2')
  t.equal(form.status, 403, 'a form a page could post')
  t.equal(form.body.code, 'CORRAL_ADMIN_NOT_DELIBERATE')
  t.equal((await post({ ...auth, 'x-corral-admin': '1', origin: 'https://evil.example' })).status, 403, 'a foreign Origin')
  t.equal(await slots(), 1, 'nothing scaled')

  const up = await post(auth)
  t.equal(up.status, 200, 'a JSON body with the token is deliberate')
  t.same(up.body, { ok: true, from: 1, workers: 2, added: [1], removed: [] })
  const down = await post({ ...auth, 'x-corral-admin': '1' }, { workers: '-1' })
  t.same(down.body, { ok: true, from: 2, workers: 1, added: [], removed: [1] })
  t.equal(await slots(), 1)
})

test('POST /scale refuses a count that is not an integer from 1 to 1024, naming what it got', async (t) => {
  const { admin } = await startCluster(t, { opts: { workers: 1 } })
  const cases: Array<[unknown, string]> = [
    [0, 'expected an integer from 1 to 1024, got 0'],
    [1025, 'expected an integer from 1 to 1024, got 1025'],
    [1.5, 'expected an integer from 1 to 1024, got 1.5'],
    ['-1', 'expected an integer from 1 to 1024, got 0'],
    ['lots', 'expected a count, +n, -n or "max", got "lots"'],
    [undefined, 'expected a count, +n, -n or "max", got nothing'],
    [[2], 'expected a count, +n, -n or "max", got [2]']
  ]
  for (const [workers, message] of cases) {
    const res = await admin('/scale', { method: 'POST', body: { workers } })
    t.equal(res.status, 400, JSON.stringify(workers))
    t.equal(res.body.code, 'CORRAL_INVALID_SCALE')
    t.equal(res.body.message, `Invalid worker count for scale: ${message}`)
  }
  t.equal((await admin('/supervisor')).body.slots.length, 1, 'still one slot')
})
