import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import corralMetrics from '@corral/metrics'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('a thousand abandoned requests leave the in-flight count', async (t) => {
  const app = Fastify()
  await app.register(corralMetrics)
  const release: any[] = []
  app.get('/hang', () => new Promise((resolve) => release.push(resolve)))
  app.get('/', async () => 'ok')
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { for (const r of release) r('late'); await app.close() })
  const { port } = app.server.address() as AddressInfo
  const agent = new http.Agent({ keepAlive: false, maxSockets: 1100 })
  const clients = Array.from({ length: 1100 }, () => http.get({ host: '127.0.0.1', port, path: '/hang', agent }).on('error', () => {}))
  while (release.length < 1100) await sleep(20)
  for (const c of clients) c.destroy()
  await sleep(200)
  // one more request crosses the pruning threshold
  await new Promise((resolve) => http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => { res.resume(); res.on('end', resolve) }))
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  t.match(text, /http_requests_in_flight 1\n/, 'only the scrape itself is in flight')
})
