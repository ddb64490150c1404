// How connections reach the workers, side by side in one run: a single
// process, raw node:cluster (round-robin), PM2 cluster mode, and
// cluster-boot with each scheduling mode ('rr', 'none', and 'reuseport'
// where the platform has it), on two workloads: keep-alive connections, and
// a new connection per request. Also how evenly new connections spread over
// the workers, and failed requests across two reloads under new-connection
// load for each cluster-boot mode. Run under each Node version by run.mjs.
import http from 'node:http'
import { reusePortSupported } from '@corral/cluster-boot'
import { DURATION, printTable, ratio, writeResults } from './lib/load.mjs'
import { app, pm2Contender, reloadsUnderNewConnections, withNode, WORKERS } from './lib/contenders.mjs'
import { ensureWrk, wrk } from './lib/wrk.mjs'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const SPREAD_REQUESTS = 2000
const major = Number(process.versions.node.split('.')[0])

ensureWrk()
const pm2 = await pm2Contender()
const { withPm2 } = pm2

/** Requests on new connections, 10 at a time: the share each worker answered. */
async function spread (port) {
  const counts = new Map()
  let next = 0
  const one = () => new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port, path: '/pid', agent: false }, (res) => {
      let body = ''
      res.on('data', (c) => { body += c })
      res.on('end', () => { const { pid } = JSON.parse(body); counts.set(pid, (counts.get(pid) ?? 0) + 1); resolve() })
    }).on('error', resolve)
  })
  await Promise.all(Array.from({ length: 10 }, async () => { while (next++ < SPREAD_REQUESTS) await one() }))
  const shares = [...counts.values()].map((n) => n / SPREAD_REQUESTS).sort((a, b) => b - a)
  while (shares.length < WORKERS) shares.push(0)
  return { busiest: Math.round(shares[0] * 100), idlest: Math.round(shares.at(-1) * 100) }
}

const modes = ['rr', 'none', ...(reusePortSupported() ? ['reuseport'] : [])]
const contenders = {
  single: { name: 'single process', run: (fn) => withNode(app('single.mjs'), {}, fn) },
  rawCluster: { name: 'raw node:cluster (rr)', run: (fn) => withNode(app('raw-cluster.mjs'), {}, fn) },
  pm2: { name: 'PM2 cluster mode', run: (fn) => withPm2(fn) },
  ...Object.fromEntries(modes.map((mode) => [`corral-${mode}`, { name: `cluster-boot '${mode}'`, run: (fn) => withNode(app('corral.mjs'), { SCHEDULING: mode }, fn) }])),
  // what a user gets without choosing
  corralDefault: { name: 'cluster-boot, default', run: (fn) => withNode(app('corral.mjs'), { SCHEDULING: '' }, fn) }
}
const workloads = {
  keepAlive: { name: 'keep-alive, 50 connections', newConnections: false },
  newConnection: { name: 'a new connection per request, 50 at a time', newConnections: true }
}

try {
  const runs = {}
  for (const [w, workload] of Object.entries(workloads)) {
    runs[w] = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]))
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? Object.keys(contenders) : Object.keys(contenders).reverse()
      for (const k of order) {
        runs[w][k].push(await contenders[k].run((port) => wrk(`http://127.0.0.1:${port}/`, { seconds: DURATION, newConnections: workload.newConnections })))
      }
    }
  }
  const mean = (list, field) => Math.round(list.reduce((sum, r) => sum + (r[field] ?? 0), 0) / list.length)
  const throughput = {}
  for (const w of Object.keys(workloads)) {
    throughput[w] = Object.fromEntries(Object.entries(runs[w]).map(([k, list]) => [k, {
      rps: mean(list, 'rps'), p99: mean(list, 'p99'), failed: mean(list, 'errors') + mean(list, 'non2xx'), runs: list.map((r) => r.rps)
    }]))
    printTable(`${workloads[w].name}, ${WORKERS} workers, ${DURATION} s each, mean of ${ROUNDS} rounds, Node ${process.versions.node}`, Object.entries(throughput[w]).map(([k, r]) => ({
      contender: contenders[k].name, 'req/s': r.rps, 'vs PM2': ratio(r.rps, throughput[w].pm2.rps), 'vs raw cluster': ratio(r.rps, throughput[w].rawCluster.rps), 'vs single': ratio(r.rps, throughput[w].single.rps), 'p99 ms': r.p99, failed: r.failed
    })))
  }

  const spreads = {}
  for (const k of Object.keys(contenders).filter((k) => k !== 'single')) spreads[k] = await contenders[k].run(spread)
  printTable(`share of ${SPREAD_REQUESTS} requests on new connections answered by the busiest and the idlest worker (%)`, Object.entries(spreads).map(([k, s]) => ({
    contender: contenders[k].name, busiest: s.busiest, idlest: s.idlest
  })))

  const reloads = {}
  for (const mode of modes) reloads[mode] = await reloadsUnderNewConnections(mode)
  printTable('two rolling reloads under new-connection load (20 at a time)', Object.entries(reloads).map(([mode, r]) => ({
    scheduling: mode, requests: r.requests, failed: r.failed
  })))

  writeResults(`scheduling-node${major}`, { workers: WORKERS, rounds: ROUNDS, modes, throughput, spreads, reloads })
} finally {
  await pm2.close()
}
process.exit(0)
