// Load generation and reporting shared by every bench script.
import autocannon from 'autocannon'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results')

/** Seconds each load run lasts; BENCH_DURATION=2 for a quick smoke run. */
export const DURATION = Number(process.env.BENCH_DURATION ?? 10)

/**
 * Runs autocannon against `url` and returns what the tables need:
 * requests/s (mean), p99 latency (ms), errors (connection failures and
 * timeouts) and non-2xx answers.
 */
export async function load (url, { duration = DURATION, connections = 50, pipelining = 1, method = 'GET', headers, body, requests, setupClient } = {}) {
  const result = await autocannon({ url, duration, connections, pipelining, method, headers, body, requests, setupClient })
  return {
    rps: Math.round(result.requests.average),
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx
  }
}

/** Prints rows as an aligned table. */
export function printTable (title, rows) {
  console.log(`\n## ${title}\n`)
  if (rows.length === 0) return
  const cols = Object.keys(rows[0])
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)))
  const line = (cells) => '| ' + cells.map((c, i) => String(c).padEnd(width[i])).join(' | ') + ' |'
  console.log(line(cols))
  console.log('|' + width.map((w) => '-'.repeat(w + 2)).join('|') + '|')
  for (const r of rows) console.log(line(cols.map((c) => r[c])))
}

export const ratio = (a, b) => (b === 0 ? null : Math.round((a / b) * 100) / 100)

/** Writes bench/results/<name>.json with the machine and the date beside the figures. */
export function writeResults (name, data) {
  mkdirSync(RESULTS_DIR, { recursive: true })
  const file = path.join(RESULTS_DIR, `${name}.json`)
  writeFileSync(file, JSON.stringify({
    name,
    date: new Date().toISOString(),
    node: process.versions.node,
    cpus: os.availableParallelism(),
    durationSeconds: DURATION,
    ...data
  }, null, 2) + '\n')
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`)
}
