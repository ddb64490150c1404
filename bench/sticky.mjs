// What `scheduling: 'sticky'` costs against 'rr' (and 'reuseport' where the
// platform has it) on plain HTTP: the primary accepts every connection and
// hands it over, so the cost is per connection; keep-alive pays it once,
// a new connection per request pays it every time. Also failed requests across
// two rolling reloads under new-connection load. `node bench/sticky.mjs`
// (BENCH_DURATION, BENCH_ROUNDS, WORKERS).
//
// wrk connects from one address (127.0.0.1), and 'sticky' keys on the client
// address: every connection of the run lands on one worker, as one client's
// would. So 'rr' with a single worker runs too: sticky against it is the cost
// of the hand-over alone; sticky against 'rr' on every worker is what one
// address gets against spreading. Many clients are what a server behind a
// proxy sees: every request says it comes from one of 4,096 addresses
// (X-Forwarded-For, lib/forwarded-for.lua, sent to every mode), and
// 'sticky, X-Forwarded-For' trusts it (sticky: { trustProxy: 1 }): the primary
// reads each first request's head, keys on the address, and spreads over the
// slots. 'sticky, sid' is the Socket.IO key on requests without a sid (a
// handshake's): the primary reads the request line and hands connections out
// in turn.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { reusePortSupported } from '@corral/cluster-boot'
import { DURATION, printTable, ratio, writeResults } from './lib/load.mjs'
import { app, reloadsUnderNewConnections, withNode, WORKERS } from './lib/contenders.mjs'
import { ensureWrk, wrk } from './lib/wrk.mjs'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const FORWARDED_FOR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'forwarded-for.lua')

ensureWrk()

/** Each mode: its scheduling, workers and sticky options. */
const MODES = {
  rr: { scheduling: 'rr', label: 'rr' },
  'rr-1': { scheduling: 'rr', workers: 1, label: 'rr, 1 worker' },
  sticky: { scheduling: 'sticky', label: 'sticky (address)' },
  'sticky-xff': { scheduling: 'sticky', sticky: { trustProxy: 1 }, label: 'sticky, X-Forwarded-For' },
  'sticky-sid': { scheduling: 'sticky', sticky: { key: 'sid' }, label: 'sticky, sid (none sent)' },
  reuseport: { scheduling: 'reuseport', label: 'reuseport' }
}

/** cluster-boot in `mode` (see MODES). */
function withCorral (mode, fn) {
  const { scheduling, workers = WORKERS, sticky } = MODES[mode]
  return withNode(app('corral.mjs'), { SCHEDULING: scheduling, WORKERS: String(workers), STICKY: sticky ? JSON.stringify(sticky) : '' }, fn)
}

/** CPU ms a process used so far (Linux /proc): robust to a loaded machine where req/s is not. */
function cpuMs (pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return NaN
  }
}

const children = (pid) => execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number)

/** wrk's result, plus CPU µs per request in the primary and in the workers together. */
async function measured (port, proc, workload) {
  const primary = proc.child.pid
  const workers = children(primary)
  const sum = () => workers.reduce((total, pid) => total + cpuMs(pid), 0)
  const [p0, w0] = [cpuMs(primary), sum()]
  const r = await wrk(`http://127.0.0.1:${port}/`, { seconds: DURATION, newConnections: workload.newConnections, script: FORWARDED_FOR })
  const perRequest = (ms) => Math.round((ms * 1000) / Math.max(r.requests, 1))
  return { ...r, primaryUs: perRequest(cpuMs(primary) - p0), workersUs: perRequest(sum() - w0) }
}

const modes = ['rr', 'rr-1', 'sticky', 'sticky-xff', 'sticky-sid', ...(reusePortSupported() ? ['reuseport'] : [])]
const reloadModes = modes.filter((m) => ['rr', 'sticky', 'reuseport'].includes(m))
const workloads = {
  keepAlive: { name: 'keep-alive, 50 connections', newConnections: false },
  newConnection: { name: 'a new connection per request, 50 at a time', newConnections: true }
}

const runs = {}
for (const [w, workload] of Object.entries(workloads)) {
  runs[w] = Object.fromEntries(modes.map((m) => [m, []]))
  for (let round = 0; round < ROUNDS; round++) {
    // alternate the order: a machine that warms up or gets busier favours no one
    for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) {
      runs[w][mode].push(await withCorral(mode, (port, proc) => measured(port, proc, workload)))
    }
  }
}

const mean = (list, field) => Math.round(list.reduce((sum, r) => sum + (r[field] ?? 0), 0) / list.length)
const throughput = {}
for (const w of Object.keys(workloads)) {
  throughput[w] = Object.fromEntries(Object.entries(runs[w]).map(([m, list]) => [m, {
    rps: mean(list, 'rps'), p99: mean(list, 'p99'), primaryUs: mean(list, 'primaryUs'), workersUs: mean(list, 'workersUs'), failed: mean(list, 'errors') + mean(list, 'non2xx'), runs: list.map((r) => r.rps)
  }]))
  printTable(`${workloads[w].name}, ${WORKERS} workers, ${DURATION} s each, mean of ${ROUNDS} rounds, Node ${process.versions.node}`, Object.entries(throughput[w]).map(([m, r]) => ({
    scheduling: MODES[m].label, 'req/s': r.rps, 'vs rr': ratio(r.rps, throughput[w].rr.rps), 'vs rr, 1 worker': ratio(r.rps, throughput[w]['rr-1'].rps), 'p99 ms': r.p99, 'primary CPU µs/req': r.primaryUs, 'workers CPU µs/req': r.workersUs, failed: r.failed, runs: r.runs.join(' ')
  })))
}

const reloadRuns = {}
for (const mode of reloadModes) reloadRuns[mode] = await reloadsUnderNewConnections(mode)
printTable('two rolling reloads under new-connection load (20 at a time)', Object.entries(reloadRuns).map(([mode, r]) => ({
  scheduling: mode, requests: r.requests, failed: r.failed
})))

writeResults(`sticky-node${process.versions.node.split('.')[0]}`, { workers: WORKERS, rounds: ROUNDS, modes, throughput, reloads: reloadRuns })
process.exit(0)
