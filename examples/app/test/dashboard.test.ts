// The dashboard as a person sees it: the example app clustered, /dashboard
// in headless Chromium (Debian's, driven by playwright-core), load, a worker
// killed, the primary stopped. `bash scripts/browser.sh` installs Chromium.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'tap'
import { chromium } from 'playwright-core'
import { freePort, request, sleep, spawnNode, waitFor } from '@corral/test-helpers'

const here = path.dirname(fileURLToPath(import.meta.url))
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']

/** Starts the example app (built: dist/server.js) with two workers; resolves once both are ready. */
export async function startExample (t, env = {}) {
  const port = await freePort()
  const adminPort = await freePort()
  const proc = spawnNode(path.join(here, '..', 'dist', 'server.js'), {
    env: { PORT: String(port), ADMIN_PORT: String(adminPort), WORKERS: '2', REDIS_URL: '', DATABASE_URL: '', ...env }
  })
  t.teardown(() => proc.stop('SIGKILL'))
  const admin = (p) => request(`http://127.0.0.1:${adminPort}${p}`)
  await waitFor(async () => {
    const { body } = await admin('/workers')
    return body.workers.length === 2 && body.workers.every((w) => w.state === 'ready' && w.requests !== null)
  }, { timeout: 60_000, message: 'two ready workers' })
  const get = (p) => request(`http://127.0.0.1:${port}${p}`)
  return { proc, port, adminPort, admin, get }
}

/** `n` requests, `concurrency` at a time. */
export async function load (get, n, concurrency = 8, url = '/') {
  let left = n
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) await get(url)
  }))
}

export async function openDashboard (t, adminPort, viewport = { width: 1400, height: 1000 }) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: BROWSER_ARGS })
  t.teardown(() => browser.close())
  const page = await browser.newPage({ viewport })
  const errors: any[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  await page.goto(`http://127.0.0.1:${adminPort}/dashboard`)
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'running', null, { timeout: 30_000 })
  return { browser, page, errors }
}

const points = (page, chart) => page.$eval(`#chart-${chart} polyline.total`, (p) => Number(p.dataset.points))

test('the dashboard draws load, a killed worker and a stop', { skip: existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (bash scripts/browser.sh)` }, async (t) => {
  // readiness turns 503 three seconds before a draining worker closes: time for the page to see "stopping"
  const { proc, adminPort, admin, get } = await startExample(t, { SHUTDOWN_DELAY: '3000' })
  const { page, errors } = await openDashboard(t, adminPort)

  t.equal(await page.$$eval('#rows tr', (rows) => rows.length), 2, 'a row per worker')
  await page.waitForFunction(() => document.getElementById('readiness')?.textContent === 'readiness: pass', null, { timeout: 10_000 })
  t.pass('the machine\'s readiness from @corral/health')
  const before = await points(page, 'rps')
  await load(get, 400)
  await page.waitForFunction((n) => Number(document.querySelector<SVGElement>('#chart-rps polyline.total')?.dataset.points) >= n + 3, before, { timeout: 20_000 })
  t.ok(await points(page, 'rps') >= before + 3, 'the requests/s chart grows a point a second')
  const drawn = await page.$eval('#chart-rps polyline.total', (p) => (p.getAttribute('points') ?? '').split(' ').map((xy) => Number(xy.split(',')[1])))
  t.ok(Math.min(...drawn) < 130, 'and the load is drawn above the baseline')
  for (const chart of ['latency', 'memory', 'lag', 'elu', 'inflight', 'errors']) {
    t.ok(await points(page, chart) > 0, `the ${chart} chart has points`)
  }
  t.ok(await page.$$eval('#chart-rps polyline.worker', (l) => l.length) === 2, 'a line per worker')

  const victim = (await admin('/workers')).body.workers.find((w) => w.slot === 0)
  process.kill(victim.pid, 'SIGKILL')
  await page.waitForSelector('#chart-rps line.marker.restart', { state: 'attached', timeout: 30_000 })
  t.pass('a restart marker is drawn')
  t.ok(await page.$('#chart-rps line.marker.crash'), 'and the crash before it')
  const fresh = await waitFor(async () => {
    const w = (await admin('/workers')).body.workers.find((x) => x.slot === 0)
    return w.pid !== victim.pid && w.state === 'ready' ? w : false
  }, { timeout: 30_000, message: 'slot 0 respawned' })
  await page.waitForSelector(`#rows tr[data-pid="${fresh.pid}"]`, { timeout: 10_000 })
  t.pass(`the new pid ${fresh.pid} is in the table`)
  t.notOk(await page.$(`#rows tr[data-pid="${victim.pid}"]`), 'the killed one is gone')
  t.match(await page.$eval(`#rows tr[data-pid="${fresh.pid}"] td.error`, (td) => td.textContent), /killed by SIGKILL/, 'with the slot\'s last error')

  proc.child.kill('SIGTERM')
  await page.waitForFunction(() => /stopping/.test(document.getElementById('status')?.textContent ?? ''), null, { timeout: 20_000 })
  t.pass('the stopping state shows')
  await proc.exited
  await page.waitForFunction(() => document.body.classList.contains('stale'), null, { timeout: 10_000 })
  t.equal(await page.$$eval('#rows tr', (rows) => rows.length), 2, 'once the server is gone the last view stays, greyed out')
  t.match(await page.$eval('#status', (s) => s.textContent), /stopping|unreachable/)
  t.same(errors, [], 'no script error on the page')
  await sleep(100)
})
