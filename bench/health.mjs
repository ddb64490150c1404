// /health/ready with a Postgres and a Redis check: @corral/health against
// @fastify/under-pressure with an equivalent healthCheck (both refresh at
// most once a second), side by side in one run, and how many Postgres
// queries each made during the probe flood.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { DURATION, load, printTable, ratio, writeResults } from './lib/load.mjs'
import { freePort, startNode, waitForHttp } from './lib/process.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const server = path.join(here, 'apps', 'health-server.mjs')
const kinds = { 'under-pressure': '@fastify/under-pressure (healthCheck, healthCheckInterval 1 s)', corral: '@corral/health (checkInterval 1000)' }
const CONNECTIONS = 50

async function queries (port) {
  const res = await fetch(`http://127.0.0.1:${port}/queries`)
  return (await res.json()).queries
}

async function measure (kind) {
  const port = await freePort()
  const proc = startNode(server, { PORT: String(port), KIND: kind })
  try {
    await waitForHttp(port, '/health/ready')
    await load(`http://127.0.0.1:${port}/health/ready`, { duration: 1, connections: CONNECTIONS })
    const before = await queries(port)
    const started = Date.now()
    const result = await load(`http://127.0.0.1:${port}/health/ready`, { connections: CONNECTIONS })
    const seconds = (Date.now() - started) / 1000
    const made = await queries(port) - before
    return { ...result, queries: made, perSecond: Math.round((made / seconds) * 100) / 100 }
  } finally {
    await proc.stop()
  }
}

const results = {}
for (const kind of Object.keys(kinds)) results[kind] = await measure(kind)
const rows = Object.entries(kinds).map(([kind, label]) => {
  const m = results[kind]
  return { server: label, 'req/s': m.rps, 'p99 ms': m.p99, 'non-2xx': m.non2xx + m.errors, 'pg queries': m.queries, 'queries/s': m.perSecond, 'vs under-pressure': ratio(m.rps, results['under-pressure'].rps) }
})
printTable(`/health/ready, ${CONNECTIONS} connections, ${DURATION} s`, rows)
const vs = ratio(results.corral.rps, results['under-pressure'].rps)
console.log(`\n@corral/health vs under-pressure: ${vs}x requests/s (target >= 1.0x); ${results.corral.perSecond} Postgres queries per second of flood (target <= 1 per cache interval of 1 s)`)
writeResults('health', { connections: CONNECTIONS, rows, ratio: vs, queriesPerSecond: results.corral.perSecond })
