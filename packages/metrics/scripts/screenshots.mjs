// Writes the README's dashboard screenshots (docs/dashboard-{idle,loaded,restart}.png):
// the test fixture cluster with two workers, /dashboard in headless Chromium
// (`bash scripts/browser.sh` from the repository root installs it).
//   node scripts/screenshots.mjs        (after pnpm build)
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { freePort, request, sleep, spawnNode, waitFor } from '@corral/test-helpers'

const here = path.dirname(fileURLToPath(import.meta.url))
const docs = path.join(here, '..', 'docs')

const port = await freePort()
const adminPort = await freePort()
const proc = spawnNode(path.join(here, '..', 'test', 'fixtures', 'app.mjs'), {
  env: { PORT: String(port), FIXTURE_OPTS: JSON.stringify({ workers: 2, admin: { port: adminPort } }), METRICS_OPTS: JSON.stringify({ pushInterval: 1000 }), AGG_OPTS: '{}' }
})
const admin = (p) => request(`http://127.0.0.1:${adminPort}${p}`)
const get = (p) => request(`http://127.0.0.1:${port}${p}`)
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
try {
  await waitFor(async () => (await admin('/workers')).body.workers.filter((w) => w.state === 'ready').length === 2, { timeout: 60_000, message: 'two ready workers' })
  const page = await browser.newPage({ viewport: { width: 1400, height: 1050 } })
  await page.goto(`http://127.0.0.1:${adminPort}/dashboard`)
  const shot = async (name) => {
    await page.screenshot({ path: path.join(docs, `dashboard-${name}.png`), fullPage: true })
    process.stdout.write(`wrote docs/dashboard-${name}.png\n`)
  }

  await sleep(20_000)
  await shot('idle')

  // 25 s of traffic: fast routes, some 5xx, slow requests in flight, one 1.5 s stall
  const until = Date.now() + 25_000
  const routes = ['/', '/users/1', '/users/2', '/job', '/fail', '/slow?ms=300']
  let i = 0
  setTimeout(() => { get('/block?ms=1500') }, 10_000)
  await Promise.all(Array.from({ length: 12 }, async () => {
    while (Date.now() < until) await get(routes[i++ % routes.length])
  }))
  await shot('loaded')

  const victim = (await admin('/workers')).body.workers[0]
  process.kill(victim.pid, 'SIGKILL')
  await waitFor(async () => (await admin('/workers')).body.workers.some((w) => w.slot === victim.slot && w.pid !== victim.pid && w.state === 'ready'), { timeout: 30_000, message: 'the respawn' })
  const after = Date.now() + 8_000
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (Date.now() < after) await get(routes[i++ % 4])
  }))
  await shot('restart')
} finally {
  await browser.close()
  await proc.stop('SIGTERM')
}
