import Fastify from 'fastify'
import { load } from './lib/load.mjs'
import { freePort, startNode, waitForHttp } from './lib/process.mjs'
import { fileURLToPath } from 'node:url'
const self = fileURLToPath(import.meta.url)
const role = process.env.ROLE
if (role) {
  const app = Fastify()
  const { default: m } = await import('@corral/metrics')
  const cfg = JSON.parse(role)
  if (cfg.plugin) await app.register(m, cfg.opts)
  if (cfg.hooks) {
    let n = 0
    app.addHook('onRequest', (r, p, d) => { n++; d() })
    if (cfg.abort) app.addHook('onRequestAbort', (r, d) => { n--; d() })
    app.addHook('onResponse', (r, p, d) => { n--; if (cfg.route) r.routeOptions.url; d() })
  }
  app.get('/', async () => ({ hello: 'world' }))
  let base = process.cpuUsage()
  let count = 0
  app.get('/reset', async () => { base = process.cpuUsage(); return 'ok' })
  app.get('/cpu', async () => { const u = process.cpuUsage(base); return { us: u.user + u.system } })
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
} else {
  const configs = {
    none: {},
    hooks: { hooks: true },
    hooksAbort: { hooks: true, abort: true },
    hooksAbortRoute: { hooks: true, abort: true, route: true },
    defaultOnly: { plugin: true, opts: { httpMetrics: false } },
    httpOnly: { plugin: true, opts: { defaultMetrics: false } },
    full: { plugin: true, opts: {} }
  }
  const out = {}
  for (let round = 0; round < 2; round++) {
    for (const [name, cfg] of Object.entries(configs)) {
      const port = await freePort()
      const p = startNode(self, { ROLE: JSON.stringify(cfg), PORT: String(port) })
      await waitForHttp(port)
      await load(`http://127.0.0.1:${port}/`, { duration: 1 })
      await fetch(`http://127.0.0.1:${port}/reset`)
      const r = await load(`http://127.0.0.1:${port}/`, { duration: 3 })
      const { us } = await (await fetch(`http://127.0.0.1:${port}/cpu`)).json()
      await p.stop()
      ;(out[name] ??= []).push(Math.round(us / r.requests * 100) / 100)
    }
  }
  for (const [k, v] of Object.entries(out)) console.log(k.padEnd(18), v.join(' '), Math.round(v.reduce((a, b) => a + b) / v.length))
}
