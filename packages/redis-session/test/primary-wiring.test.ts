// With no Redis and no code in the primary, the worker plugin asks the
// cluster-boot primary for the embedded store: under boot() and `corral start`.
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { request, startApp, visitBothWorkers } from '@corral/test-helpers'
import { sessionCookie } from './fixtures/session-app.js'

interface Line { msg?: string, store?: string, plugin?: string, [key: string]: unknown }
type Started = Awaited<ReturnType<typeof startApp>>

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const start = (t: Test, how: 'boot' | 'cli', env: Record<string, string> = {}): Promise<Started> =>
  startApp(t, how, { bootFile: fixture('wired-boot.mjs'), appFile: fixture('wired-app.mjs'), env })

function loadedOnce (t: Test, proc: Started['proc']): void {
  const loaded = proc.lines.filter((l: Line) => l.msg === 'primary module loaded')
  t.match(loaded, [{ plugin: '@corral/redis-session-primary', module: /redis-session\/dist\/primary\.js$/ }], 'the embedded store, loaded once for 2 workers')
  const said = proc.lines.filter((l: Line) => l.store !== undefined)
  t.same(said.map((l: Line) => l.store), ['primary', 'primary'], 'each worker uses the store in the primary')
}

t.test('under boot() with no primary option, 2 workers share sessions in the primary', async (t) => {
  const { proc, url } = await start(t, 'boot')
  loadedOnce(t, proc)
  await visitBothWorkers(t, url)
})

t.test('with admin: false too: the store needs no admin server', async (t) => {
  const { proc, url } = await start(t, 'boot', { NO_ADMIN: '1' })
  loadedOnce(t, proc)
  await visitBothWorkers(t, url)
})

t.test('under `corral start`, with no code in the primary, 2 workers share sessions', async (t) => {
  const { proc, url } = await start(t, 'cli')
  loadedOnce(t, proc)
  await visitBothWorkers(t, url)
})

t.test('the plugin\'s `primary` option reaches the store in the primary', async (t) => {
  const { url } = await start(t, 'boot', { PRIMARY_OPTS: JSON.stringify({ maxSessions: 1 }) })
  const alice = sessionCookie(await request(`${url}/login`, { method: 'POST', body: { user: 'alice' } }))
  t.same((await request(`${url}/peek`, { headers: { cookie: alice } })).body, { user: 'alice', visits: 0 })
  await request(`${url}/login`, { method: 'POST', body: { user: 'bob' } })
  t.same((await request(`${url}/peek`, { headers: { cookie: alice } })).body, { user: null, visits: null }, 'maxSessions: 1, so bob\'s login evicted alice')
})
