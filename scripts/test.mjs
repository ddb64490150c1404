// Runs every workspace package's tap suite in turn (one at a time: the
// cluster tests fork real processes), on every supported Node.js version
// (the oldest and the newest LTS, fetched by scripts/node.mjs), keeps going
// past a failing package, and ends with one plain line:
// "tests: N passed, N failed". CORRAL_TEST_NODE=26 runs one version only.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { nodeBin } from './node.mjs'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
/** Node 20 reached end of life in April 2026 and dependencies (cookie 2, under @fastify/cookie) need 22: engines ">=22". */
const SUPPORTED = ['22', '26']
const versions = process.env.CORRAL_TEST_NODE ? process.env.CORRAL_TEST_NODE.split(',') : SUPPORTED
const dirs = ['packages/cluster-boot', 'packages/redis-session', 'packages/health', 'packages/metrics', 'examples/app', 'examples/scale-out']
  .filter((d) => existsSync(path.join(root, d, 'package.json')) && JSON.parse(readFileSync(path.join(root, d, 'package.json'), 'utf8')).scripts?.test)

let passed = 0
let failed = 0
const broken = []
const runs = versions.flatMap((major) => {
  const bin = nodeBin(major)
  return dirs.map((dir) => ({ dir, major, env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` } }))
})
for (const { dir, major, env } of runs) {
  console.log(`\n# ${dir} (Node ${major})`)
  const { code, tail } = await new Promise((resolve) => {
    const child = spawn('pnpm', ['test'], { cwd: path.join(root, dir), env, stdio: ['ignore', 'pipe', 'inherit'] })
    let tail = ''
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk)
      tail = (tail + chunk).slice(-4000)
    })
    child.on('exit', (code) => resolve({ code, tail }))
  })
  const summary = /# \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/.exec(tail)
  if (summary !== null) {
    passed += Number(summary[2])
    failed += Number(summary[3] ?? 0)
  }
  if (code !== 0) {
    broken.push(`${dir} (Node ${major})`)
    if (summary === null || summary[3] === undefined) failed++
  }
}
if (broken.length > 0) console.log(`\nfailing: ${broken.join(', ')}`)
console.log(`\ntests: ${passed} passed, ${failed} failed`)
process.exit(broken.length === 0 ? 0 : 1)
