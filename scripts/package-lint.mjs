// Lints what each package would publish, as packed by `pnpm pack`: publint
// (package.json fields, exports, files; warnings fail) and Are the Types
// Wrong (types under node16 and bundler resolution: the subpath exports
// `./primary` and `./options` do not exist for TypeScript's old `node10`
// resolution, which predates "exports"). The packages are ESM-only on
// purpose: Node >= 22.12 loads them with require() too (the registry check
// runs a CommonJS app), so attw's "CJS resolves to ESM" is expected.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { run } from './registry/process.mjs'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => path.join(root, 'node_modules', '.bin', name)
const dirs = readdirSync(path.join(root, 'packages'))
  .map((dir) => path.join(root, 'packages', dir))
  .filter((dir) => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).private !== true)

const work = mkdtempSync(path.join(os.tmpdir(), 'corral-lint-'))
let failed = 0
try {
  for (const dir of dirs) {
    const name = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name
    const packed = (await run('pnpm', ['pack', '--pack-destination', work], { cwd: dir })).trim().split('\n').pop()
    const tarball = path.isAbsolute(packed) ? packed : path.join(work, path.basename(packed))
    const checks = [
      ['publint', [bin('publint'), ['run', tarball, '--strict']]],
      ['attw', [bin('attw'), [tarball, '--profile', 'node16', '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii', '--no-color', '--no-emoji']]]
    ]
    for (const [tool, [cmd, args]] of checks) {
      try {
        await run(cmd, args, { cwd: work })
        console.log(`package-lint: ${name}: ${tool} ok`)
      } catch (err) {
        console.error(`package-lint: ${name}: ${tool} reports:\n${err.message}`)
        failed++
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
process.exit(failed === 0 ? 0 : 1)
