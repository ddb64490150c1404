// `pnpm bench`: every comparison, one after the other, each printing its table and ratios.
// The scheduling and sticky suites run under this Node and under the newest LTS (from the npm package `node`).
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const only = process.argv.slice(2)
const suites = ['cluster-boot', 'scheduling', 'sticky', 'realtime', 'redis-session', 'health', 'metrics'].filter((s) => only.length === 0 || only.includes(s))
const LTS = process.env.BENCH_LTS ?? '24'

function ltsNode () {
  try {
    return execFileSync('npx', ['-y', '-p', `node@${LTS}`, 'node', '-p', 'process.execPath'], { encoding: 'utf8' }).trim()
  } catch (err) {
    console.log(`(Node ${LTS} not available: ${err.message.split('\n')[0]})`)
    return null
  }
}

let failed = 0
for (const suite of suites) {
  const file = path.join(here, `${suite}.mjs`)
  if (!existsSync(file)) continue
  const nodes = [process.execPath]
  if (['scheduling', 'sticky'].includes(suite) && !process.version.startsWith(`v${LTS}.`)) nodes.push(ltsNode())
  for (const node of nodes.filter(Boolean)) {
    console.log(`\n# ${suite}${nodes.length > 1 ? ` (${node === process.execPath ? process.version : `Node ${LTS}`})` : ''}`)
    const { status } = spawnSync(node, [file], { stdio: 'inherit', cwd: here })
    if (status !== 0) failed++
  }
}
process.exit(failed === 0 ? 0 : 1)
