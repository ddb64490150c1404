// Runs every workspace package's tap suite in turn (one at a time: the
// cluster tests fork real processes), keeps going past a failing package,
// and ends with one plain line: "tests: N passed, N failed".
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const dirs = ['packages/cluster-boot', 'packages/redis-session', 'packages/health', 'packages/metrics', 'packages/realtime', 'examples/app', 'examples/scale-out']
  .filter((d) => existsSync(path.join(root, d, 'package.json')) && JSON.parse(readFileSync(path.join(root, d, 'package.json'), 'utf8')).scripts?.test)

let passed = 0
let failed = 0
const broken = []
for (const dir of dirs) {
  console.log(`\n# ${dir}`)
  const { code, tail } = await new Promise((resolve) => {
    const child = spawn('pnpm', ['test'], { cwd: path.join(root, dir), stdio: ['ignore', 'pipe', 'inherit'] })
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
    broken.push(dir)
    if (summary === null || summary[3] === undefined) failed++
  }
}
if (broken.length > 0) console.log(`\nfailing: ${broken.join(', ')}`)
console.log(`\ntests: ${passed} passed, ${failed} failed`)
process.exit(broken.length === 0 ? 0 : 1)
