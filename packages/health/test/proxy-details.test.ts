import t from 'tap'
import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { corralHealth } from '@corral/health'
import { request } from '@corral/test-helpers'

// a same-host reverse proxy as nginx's plain proxy_pass is: no X-Forwarded-* header, the public name as Host
function plainProxy (targetPort: number, publicHost: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const upstream = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: { ...req.headers, host: publicHost } }, (up) => {
      res.writeHead(up.statusCode as number, up.headers)
      up.pipe(res)
    })
    upstream.on('error', () => { res.statusCode = 502; res.end() })
    req.pipe(upstream)
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

t.test('behind a same-host proxy that adds no headers, details are not shown; a direct loopback caller still sees them', async (t) => {
  const app = Fastify()
  await app.register(corralHealth, { checks: { db: async () => ({ observedValue: 3, output: 'connected to db.internal' }) } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const port = (app.server.address() as AddressInfo).port
  const proxy = await plainProxy(port, 'shop.example.com')
  t.teardown(() => proxy.close())

  const proxied = await request(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}/health`)
  t.equal(proxied.status, 200)
  t.same(proxied.body, { status: 'pass' }, 'a caller through the proxy sees the status only')
  const direct = await request(`http://127.0.0.1:${port}/health`)
  t.ok(direct.body.checks, 'a direct caller on this host sees the checks')
  t.ok((await request(`http://localhost:${port}/health`)).body.checks, 'by the name localhost too')
})

t.test('a loopback caller naming the host by its IPv6 address sees details; an HTTP/1.0 request without a Host does not', async (t) => {
  const app = Fastify()
  await app.register(corralHealth, { checks: { db: async () => ({ observedValue: 3 }) } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const port = (app.server.address() as AddressInfo).port
  t.ok((await request(`http://127.0.0.1:${port}/health`, { headers: { host: `[::1]:${port}` } })).body.checks, '[::1]:port is loopback')
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end('GET /health HTTP/1.0\r\n\r\n'))
    let text = ''
    socket.setEncoding('utf8').on('data', (c) => { text += c }).on('end', () => resolve(text)).on('error', reject)
  })
  t.match(raw, /^HTTP\/1\.1 200/)
  t.same(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)), { status: 'pass' }, 'no Host names no loopback address: status only')
})
