// cluster-boot against what users would otherwise run, side by side in one run:
//  1. hello-world requests/s and p99 with the same worker count: a single
//     process, raw node:cluster, PM2 cluster mode, cluster-boot;
//  2. failed requests across two reloads under keep-alive load: `pm2 reload`
//     against SIGHUP to cluster-boot.
import { DURATION, load, printTable, ratio, writeResults } from './lib/load.mjs'
import { app, pm2Contender, withNode, WORKERS } from './lib/contenders.mjs'
import { freePort, sleep } from './lib/process.mjs'

const CONNECTIONS = 50
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)

const pm2 = await pm2Contender()
const { withPm2 } = pm2
const pm2Call = pm2.call

async function reloadCount (adminPort) {
  const res = await fetch(`http://127.0.0.1:${adminPort}/supervisor`)
  return (await res.json()).reloads
}

/** Load for `seconds` while `reloads` runs after a second; counts every failure. */
async function reloadUnderLoad (port, reload) {
  const seconds = Math.max(DURATION, 8)
  const loading = load(`http://127.0.0.1:${port}/`, { duration: seconds, connections: 20 })
  await sleep(1000)
  const started = Date.now()
  await reload()
  await sleep(500)
  await reload()
  const reloadMs = Date.now() - started
  const r = await loading
  return { requests: r.requests, failed: r.errors + r.non2xx, errors: r.errors, non2xx: r.non2xx, reloadMs }
}

try {
  const hit = (port) => load(`http://127.0.0.1:${port}/`, { connections: CONNECTIONS })
  const contenders = {
    single: () => withNode(app('single.mjs'), {}, hit),
    rawCluster: () => withNode(app('raw-cluster.mjs'), {}, hit),
    pm2: () => withPm2(hit),
    clusterBoot: () => withNode(app('corral.mjs'), {}, hit),
    // the OS hands connections to the workers: the primary leaves the data path
    clusterBootNone: () => withNode(app('corral.mjs'), { SCHEDULING: 'none' }, hit)
  }
  // rounds in alternating order, so no contender always runs on a warmer (or busier) machine
  const runs = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]))
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? Object.keys(contenders) : Object.keys(contenders).reverse()
    for (const k of order) runs[k].push(await contenders[k]())
  }
  const avg = (list, field) => Math.round(list.reduce((sum, r) => sum + r[field], 0) / list.length)
  const throughput = Object.fromEntries(Object.entries(runs).map(([k, list]) => [k, {
    rps: avg(list, 'rps'), p99: avg(list, 'p99'), requests: avg(list, 'requests'), errors: avg(list, 'errors'), non2xx: avg(list, 'non2xx')
  }]))

  const reloads = {}
  reloads.pm2 = await withPm2((port, name) => reloadUnderLoad(port, () => pm2Call('reload', name)))
  const adminPort = await freePort()
  reloads.clusterBoot = await withNode(app('corral.mjs'), { ADMIN_PORT: String(adminPort) }, (port, proc) => reloadUnderLoad(port, async () => {
    const before = await reloadCount(adminPort)
    proc.child.kill('SIGHUP')
    while (await reloadCount(adminPort) === before) await sleep(50)
  }))

  const names = { single: 'single process', rawCluster: 'raw node:cluster', pm2: 'PM2 cluster mode', clusterBoot: '@corral/cluster-boot', clusterBootNone: "@corral/cluster-boot, scheduling 'none'" }
  printTable(`hello world, ${WORKERS} workers, ${CONNECTIONS} connections, ${DURATION} s each, mean of ${ROUNDS} rounds in alternating order`, Object.entries(throughput).map(([k, r]) => ({
    contender: names[k], 'req/s': r.rps, 'p99 ms': r.p99, errors: r.errors + r.non2xx
  })))
  const ratios = {
    clusterBootVsRawCluster: ratio(throughput.clusterBoot.rps, throughput.rawCluster.rps),
    clusterBootVsPm2: ratio(throughput.clusterBoot.rps, throughput.pm2.rps),
    clusterBootVsSingle: ratio(throughput.clusterBoot.rps, throughput.single.rps),
    clusterBootNoneVsPm2: ratio(throughput.clusterBootNone.rps, throughput.pm2.rps)
  }
  console.log(`\ncluster-boot / raw node:cluster: ${ratios.clusterBootVsRawCluster}x (target >= 0.97)`)
  console.log(`cluster-boot / PM2:              ${ratios.clusterBootVsPm2}x (target >= 1.2)`)
  console.log(`cluster-boot / single process:   ${ratios.clusterBootVsSingle}x`)
  console.log(`cluster-boot 'none' / PM2:       ${ratios.clusterBootNoneVsPm2}x`)

  printTable('two reloads under keep-alive load (20 connections)', Object.entries(reloads).map(([k, r]) => ({
    contender: names[k], requests: r.requests, failed: r.failed, 'connection errors': r.errors, 'non-2xx': r.non2xx, 'reload ms': r.reloadMs
  })))
  writeResults('cluster-boot', { workers: WORKERS, connections: CONNECTIONS, rounds: ROUNDS, throughput, ratios, reloads })
} finally {
  await pm2.close()
}
process.exit(0)
