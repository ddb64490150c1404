// Sessions on Redis: @corral/redis-session's RedisStore against @fastify/session
// + connect-redis (node-redis), the store the Express world uses, and against
// the physical limit (the same routes doing the same GETEX/SET on ioredis with
// no session machinery), on the same Redis in the same run. 50 connections,
// each with a logged-in session of its own. The Redis is a redis-server of the
// bench's own (unless REDIS_URL is set), so its command counts and CPU time
// are the bench's alone.
import autocannon from 'autocannon'
import http from 'node:http'
import path from 'node:path'
import { Redis } from 'ioredis'
import { fileURLToPath } from 'node:url'
import { DURATION, load, printTable, ratio, writeResults } from './lib/load.mjs'
import { freePort, startNode, waitForHttp } from './lib/process.mjs'
import { startRedisServer } from '@corral/test-helpers'

const here = path.dirname(fileURLToPath(import.meta.url))
const server = path.join(here, 'apps', 'session-server.mjs')
const cacheCluster = path.join(here, 'apps', 'cache-cluster.mjs')
const CONNECTIONS = 50
const MISSES = 500
/** requests of the pass that counts Redis commands: a fixed number, all answered, so none is cut off mid-way */
const COUNTED = 2000
const WARM_UP = 5000
const ownRedis = process.env.REDIS_URL === undefined ? await startRedisServer() : null
const REDIS_URL = process.env.REDIS_URL ?? ownRedis.url

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

// What the shared Redis did: commands by name, and its CPU time (µs). One INFO
// call, which the next reading counts: subtracted.
const stats = new Redis(REDIS_URL)
async function redisStats () {
  const info = await stats.info('everything')
  const commands = {}
  for (const [, name, calls] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) commands[name] = Number(calls)
  const cpu = (field) => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info)[1]) * 1e6
  return { commands, cpu: cpu('used_cpu_user') + cpu('used_cpu_sys') }
}
function commandsBetween (before, after, requests) {
  const perRequest = {}
  for (const [name, calls] of Object.entries(after.commands)) {
    const n = calls - (before.commands[name] ?? 0) - (name === 'info' ? 1 : 0)
    if (n / requests >= 0.005) perRequest[name] = Math.round(n / requests * 100) / 100
  }
  return perRequest
}
const ownCpu = () => { const { user, system } = process.cpuUsage(); return user + system }

async function measure (store) {
  const port = await freePort()
  const proc = startNode(server, { PORT: String(port), STORE: store, PREFIX: `bench:${store}:${process.pid}:`, REDIS_URL })
  try {
    await waitForHttp(port, '/r')
    const cookies = await Promise.all(Array.from({ length: CONNECTIONS }, () => login(port)))
    let next = 0
    const setupClient = (client) => client.setHeaders({ cookie: cookies[next++ % cookies.length] })
    const url = `http://127.0.0.1:${port}`
    // warm-up of both routes, JIT and connection pools: a number of requests, not of seconds, which a busy machine would cut short
    for (const route of ['rw', 'r']) await autocannon({ url: `${url}/${route}`, amount: WARM_UP, connections: CONNECTIONS, setupClient })
    // CPU per request of the server, of Redis and of the load generator (this
    // process): on 2 shared cores, requests/s is bounded by their sum
    const serverCpu = async () => (await (await fetch(`${url}/__cpu`)).json()).us
    const measured = async (route) => {
      const redisBefore = await redisStats()
      const cpuBefore = await serverCpu()
      const loadBefore = ownCpu()
      const m = await load(`${url}/${route}`, { connections: CONNECTIONS, setupClient })
      const loadCpu = ownCpu() - loadBefore
      const cpu = await serverCpu() - cpuBefore
      const redisAfter = await redisStats()
      // Redis commands per request, by name
      await autocannon({ url: `${url}/${route}`, amount: COUNTED, connections: CONNECTIONS, setupClient })
      const commands = commandsBetween(redisAfter, await redisStats(), COUNTED)
      return {
        ...m,
        cpuPerRequest: cpu / m.requests,
        redisCpuPerRequest: (redisAfter.cpu - redisBefore.cpu) / m.requests,
        loadCpuPerRequest: loadCpu / m.requests,
        commandsPerRequest: Math.round(Object.values(commands).reduce((a, b) => a + b, 0) * 100) / 100,
        commands
      }
    }
    return { rw: await measured('rw'), r: await measured('r') }
  } finally {
    await proc.stop()
  }
}

// the bench's redis-server goes whatever happens
try {
  const stores = {
    'connect-redis': '@fastify/session + connect-redis (node-redis)',
    corral: '@corral/redis-session (ioredis)',
    ioredis: 'the limit: GETEX/SET on ioredis, no session code'
  }
  // rotating order over rounds, so no stack always runs on a warmer machine
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
  const runs = Object.fromEntries(Object.keys(stores).map((store) => [store, []]))
  for (let round = 0; round < ROUNDS; round++) {
    const names = Object.keys(stores)
    const order = [...names.slice(round % names.length), ...names.slice(0, round % names.length)]
    for (const store of order) runs[store].push(await measure(store))
  }
  const mean = (list, route, field, digits = 0) => Math.round(list.reduce((sum, m) => sum + m[route][field], 0) / list.length * 10 ** digits) / 10 ** digits
  const summary = (list, route) => ({
    rps: mean(list, route, 'rps'),
    p99: mean(list, route, 'p99'),
    errors: mean(list, route, 'errors') + mean(list, route, 'non2xx'),
    commands: mean(list, route, 'commandsPerRequest', 2),
    byName: Object.entries(list.at(-1)[route].commands).map(([name, n]) => `${name} ${n}`).join(', '),
    cpu: mean(list, route, 'cpuPerRequest', 1),
    redisCpu: mean(list, route, 'redisCpuPerRequest', 1),
    loadCpu: mean(list, route, 'loadCpuPerRequest', 1)
  })
  const results = Object.fromEntries(Object.entries(runs).map(([store, list]) => [store, { rw: summary(list, 'rw'), r: summary(list, 'r') }]))

  const rows = []
  for (const [route, name] of [['rw', 'read + write'], ['r', 'read only']]) {
    for (const [store, label] of Object.entries(stores)) {
      const m = results[store][route]
      rows.push({
        stack: label,
        route: name,
        'req/s': m.rps,
        'vs connect-redis': ratio(m.rps, results['connect-redis'][route].rps),
        'p99 ms': m.p99,
        errors: m.errors,
        'Redis commands/req': m.commands,
        commands: m.byName,
        'server CPU µs/req': m.cpu,
        'server CPU vs connect-redis': ratio(m.cpu, results['connect-redis'][route].cpu),
        'Redis CPU µs/req': m.redisCpu,
        'load generator CPU µs/req': m.loadCpu
      })
    }
  }
  printTable(`sessions on Redis, ${CONNECTIONS} connections, ${DURATION} s per run, mean of ${ROUNDS} rounds in rotating order`, rows)
  const ratios = {
    readWrite: ratio(results.corral.rw.rps, results['connect-redis'].rw.rps),
    readOnly: ratio(results.corral.r.rps, results['connect-redis'].r.rps),
    limitReadWrite: ratio(results.ioredis.rw.rps, results['connect-redis'].rw.rps),
    limitReadOnly: ratio(results.ioredis.r.rps, results['connect-redis'].r.rps),
    serverCpuReadWrite: ratio(results.corral.rw.cpu, results['connect-redis'].rw.cpu),
    serverCpuReadOnly: ratio(results.corral.r.cpu, results['connect-redis'].r.cpu)
  }
  console.log(`\n@corral/redis-session vs connect-redis, req/s: read+write ${ratios.readWrite}x, read-only ${ratios.readOnly}x (targets >= 1.2x, >= 1.3x);` +
    ` the limit: ${ratios.limitReadWrite}x, ${ratios.limitReadOnly}x`)
  console.log(`server CPU per request vs connect-redis: read+write ${ratios.serverCpuReadWrite}x, read-only ${ratios.serverCpuReadOnly}x`)

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
    const proc = startNode(cacheCluster, { PORT: String(port), PREFIX: prefix, REDIS_URL, ...(backend === 'redis' ? { SESSION_REDIS: REDIS_URL } : {}) })
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

  writeResults('redis-session', { connections: CONNECTIONS, rounds: ROUNDS, rows, ratios, targets: { readWrite: 1.2, readOnly: 1.3 }, cache: cacheRows })
} finally {
  await stats.quit()
  await ownRedis?.close()
}
