// Sessions on Redis: @corral/redis-session's RedisStore against @fastify/session
// + connect-redis (node-redis), the store the Express world uses, on the same
// Redis in the same run. 50 connections, each with a logged-in session of its own.
import http from 'node:http'
import path from 'node:path'
import { Redis } from 'ioredis'
import { fileURLToPath } from 'node:url'
import { DURATION, load, printTable, ratio, writeResults } from './lib/load.mjs'
import { freePort, startNode, waitForHttp } from './lib/process.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const server = path.join(here, 'apps', 'session-server.mjs')
const cacheCluster = path.join(here, 'apps', 'cache-cluster.mjs')
const CONNECTIONS = 50
const MISSES = 500
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

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

const stats = new Redis(REDIS_URL)
async function commandsProcessed () {
  const info = await stats.info('stats')
  return Number(/total_commands_processed:(\d+)/.exec(info)[1])
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
    // Redis commands per request: what each store costs the shared Redis, free of CPU noise
    const cpu = async () => (await (await fetch(`${url}/__cpu`)).json()).us
    const measured = async (route) => {
      const before = await commandsProcessed()
      const cpuBefore = await cpu()
      const m = await load(`${url}/${route}`, { connections: CONNECTIONS, setupClient })
      const cpuPerRequest = (await cpu() - cpuBefore) / m.requests
      return { ...m, cpuPerRequest, commandsPerRequest: Math.round(((await commandsProcessed()) - before - 1) / m.requests * 100) / 100 }
    }
    return { rw: await measured('rw'), r: await measured('r') }
  } finally {
    await proc.stop()
  }
}

const stores = { 'connect-redis': '@fastify/session + connect-redis (node-redis)', corral: '@corral/redis-session RedisStore (ioredis)' }
// alternating order over rounds, so neither store always runs on a warmer machine
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const runs = Object.fromEntries(Object.keys(stores).map((store) => [store, []]))
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? Object.keys(stores) : Object.keys(stores).reverse()
  for (const store of order) runs[store].push(await measure(store))
}
const mean = (list, route, field, digits = 0) => Math.round(list.reduce((sum, m) => sum + m[route][field], 0) / list.length * 10 ** digits) / 10 ** digits
const results = Object.fromEntries(Object.entries(runs).map(([store, list]) => [store, {
  rw: { rps: mean(list, 'rw', 'rps'), p99: mean(list, 'rw', 'p99'), errors: mean(list, 'rw', 'errors'), non2xx: mean(list, 'rw', 'non2xx'), commands: mean(list, 'rw', 'commandsPerRequest', 2), cpu: mean(list, 'rw', 'cpuPerRequest', 1) },
  r: { rps: mean(list, 'r', 'rps'), p99: mean(list, 'r', 'p99'), errors: mean(list, 'r', 'errors'), non2xx: mean(list, 'r', 'non2xx'), commands: mean(list, 'r', 'commandsPerRequest', 2), cpu: mean(list, 'r', 'cpuPerRequest', 1) }
}]))

const rows = []
for (const [store, label] of Object.entries(stores)) {
  for (const [route, name] of [['rw', 'read + write'], ['r', 'read only']]) {
    const m = results[store][route]
    rows.push({ store: label, route: name, 'req/s': m.rps, 'p99 ms': m.p99, errors: m.errors + m.non2xx, 'Redis commands/req': m.commands, 'server CPU µs/req': m.cpu, 'vs connect-redis': ratio(m.rps, results['connect-redis'][route].rps) })
  }
}
printTable(`sessions on Redis, ${CONNECTIONS} connections, ${DURATION} s per run, mean of ${ROUNDS} rounds in alternating order`, rows)
const ratios = { readWrite: ratio(results.corral.rw.rps, results['connect-redis'].rw.rps), readOnly: ratio(results.corral.r.rps, results['connect-redis'].r.rps) }
console.log(`\nRedisStore vs connect-redis: read+write ${ratios.readWrite}x, read-only ${ratios.readOnly}x (target >= 1.3x)`)

// 500 concurrent misses for one key, spread by the primary over 2 workers
function fire (url, n) {
  const agent = new http.Agent({ keepAlive: false, maxSockets: n })
  return Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
    http.get(url, { agent }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)) }).on('error', () => resolve(0))
  })))
}

async function misses (backend, route) {
  const prefix = `bench:cache:${backend}:${process.pid}:${route}:`
  const port = await freePort()
  const proc = startNode(cacheCluster, { PORT: String(port), PREFIX: prefix, ...(backend === 'redis' ? { SESSION_REDIS: REDIS_URL } : {}) })
  const redis = new Redis(REDIS_URL)
  try {
    await waitForHttp(port, '/')
    const started = Date.now()
    const statuses = await fire(`http://127.0.0.1:${port}/${route}/report`, MISSES)
    const ms = Date.now() - started
    const calls = Number(await redis.get(`${prefix}origin-calls`))
    await redis.del(`${prefix}origin-calls`, `${prefix}cache:{report}`)
    return { calls, ms, failed: statuses.filter((s) => s !== 200).length }
  } finally {
    await proc.stop()
    await redis.quit()
  }
}

const cacheRows = []
for (const [backend, route, label] of [
  ['redis', 'naive', 'get, compute, set (no single-flight), on Redis'],
  ['redis', 'wrap', 'cache.wrap on Redis'],
  ['primary', 'wrap', 'cache.wrap embedded in the primary']
]) {
  const m = await misses(backend, route)
  cacheRows.push({ cache: label, requests: MISSES, 'origin calls': m.calls, failed: m.failed, 'ms for all': m.ms })
}
printTable(`${MISSES} concurrent misses for one key from 2 workers (origin takes 100 ms)`, cacheRows)

writeResults('redis-session', { connections: CONNECTIONS, rounds: ROUNDS, rows, ratios, target: 1.3, cache: cacheRows })
await stats.quit()
