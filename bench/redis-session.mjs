// Sessions on Redis: @corral/redis-session's RedisStore against @fastify/session
// + connect-redis (node-redis), the store the Express world uses, on the same
// Redis in the same run. 50 connections, each with a logged-in session of its own.
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { DURATION, load, printTable, ratio, writeResults } from './lib/load.mjs'
import { freePort, startNode, waitForHttp } from './lib/process.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const server = path.join(here, 'apps', 'session-server.mjs')
const CONNECTIONS = 50

function login (port) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/login', method: 'POST', agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.headers['set-cookie'][0].split(';')[0]))
    })
    req.on('error', reject)
    req.end()
  })
}

async function measure (store) {
  const port = await freePort()
  const proc = startNode(server, { PORT: String(port), STORE: store, PREFIX: `bench:${store}:${process.pid}:` })
  try {
    await waitForHttp(port, '/r')
    const cookies = await Promise.all(Array.from({ length: CONNECTIONS }, () => login(port)))
    let next = 0
    const setupClient = (client) => client.setHeaders({ cookie: cookies[next++ % cookies.length] })
    const url = `http://127.0.0.1:${port}`
    // warm-up: JIT and connection pools
    await load(`${url}/rw`, { duration: 1, connections: CONNECTIONS, setupClient })
    const rw = await load(`${url}/rw`, { connections: CONNECTIONS, setupClient })
    const r = await load(`${url}/r`, { connections: CONNECTIONS, setupClient })
    return { rw, r }
  } finally {
    await proc.stop()
  }
}

const stores = { 'connect-redis': '@fastify/session + connect-redis (node-redis)', corral: '@corral/redis-session RedisStore (ioredis)' }
const results = {}
for (const store of Object.keys(stores)) results[store] = await measure(store)

const rows = []
for (const [store, label] of Object.entries(stores)) {
  for (const [route, name] of [['rw', 'read + write'], ['r', 'read only']]) {
    const m = results[store][route]
    rows.push({ store: label, route: name, 'req/s': m.rps, 'p99 ms': m.p99, errors: m.errors + m.non2xx, 'vs connect-redis': ratio(m.rps, results['connect-redis'][route].rps) })
  }
}
printTable(`sessions on Redis, ${CONNECTIONS} connections, ${DURATION} s per run`, rows)
const ratios = { readWrite: ratio(results.corral.rw.rps, results['connect-redis'].rw.rps), readOnly: ratio(results.corral.r.rps, results['connect-redis'].r.rps) }
console.log(`\nRedisStore vs connect-redis: read+write ${ratios.readWrite}x, read-only ${ratios.readOnly}x (target >= 1.3x)`)
writeResults('redis-session', { connections: CONNECTIONS, rows, ratios, target: 1.3 })
