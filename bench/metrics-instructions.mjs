// Instructions per request (valgrind's callgrind counts instructions, not
// seconds: the same on a busy machine as on a quiet one) of a hello-world
// Fastify server: bare, with two empty hooks, with @corral/metrics and with
// fastify-metrics. Each runs twice, serving N1 and N2 requests; the
// difference divided by N2 - N1 leaves start-up out. Slow (minutes), so not
// part of `pnpm bench`: run `node bench/metrics-instructions.mjs`.
// Caveat: under valgrind a request takes ~50x longer, so timer-driven work
// (prom-client's event-loop monitor) weighs more per request than it does live.
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { printTable, ratio, writeResults } from './lib/load.mjs'
import { freePort, sleep } from './lib/process.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const server = path.join(here, 'apps', 'hello-variants.mjs')
const [N1, N2] = [1000, 5000]

async function instructions (kind, n) {
  const port = await freePort()
  const out = path.join(os.tmpdir(), `corral-cg-${process.pid}-${kind}-${n}.out`)
  const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, server], {
    env: { ...process.env, KIND: kind, N: String(n), PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (c) => { stderr += c })
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (c) => { if (String(c).includes('listening')) resolve() })
    child.on('exit', () => reject(new Error(`${kind} exited before listening: ${stderr.slice(-500)}`)))
  })
  await autocannon({ url: `http://127.0.0.1:${port}/`, amount: n, connections: 10 })
  await new Promise((resolve) => child.exitCode !== null ? resolve() : child.on('exit', resolve))
  await sleep(100)
  rmSync(out, { force: true })
  const collected = /Collected : (\d+)/.exec(stderr)
  if (collected === null) throw new Error(`no callgrind total for ${kind}: ${stderr.slice(-500)}`)
  return Number(collected[1])
}

const kinds = { none: 'fastify, no metrics', 'two-empty-hooks': 'fastify + two empty hooks', corral: 'fastify + @corral/metrics', 'fastify-metrics': 'fastify + fastify-metrics' }
const perRequest = {}
for (const kind of Object.keys(kinds)) {
  const a = await instructions(kind, N1)
  const b = await instructions(kind, N2)
  perRequest[kind] = Math.round((b - a) / (N2 - N1))
  console.log(`${kind}: ${perRequest[kind]} instructions per request`)
}
const rows = Object.entries(kinds).map(([kind, label]) => ({
  server: label,
  'instructions/request': perRequest[kind],
  'vs none': ratio(perRequest[kind], perRequest.none)
}))
printTable(`instructions per request under callgrind (${N2} minus ${N1} requests)`, rows)
writeResults('metrics-instructions', { n: [N1, N2], rows })
