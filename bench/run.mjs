// `pnpm bench`: every comparison, one after the other, each printing its table and ratios.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const only = process.argv.slice(2)
const suites = ['cluster-boot', 'redis-session', 'health', 'metrics'].filter((s) => only.length === 0 || only.includes(s))
let failed = 0
for (const suite of suites) {
  const file = path.join(here, `${suite}.mjs`)
  if (!existsSync(file)) continue
  console.log(`\n# ${suite}`)
  const { status } = spawnSync(process.execPath, [file], { stdio: 'inherit', cwd: here })
  if (status !== 0) failed++
}
process.exit(failed === 0 ? 0 : 1)
