// Packs every publishable package with `pnpm pack`, installs the tarballs into
// an empty project, and checks that each imports at run time and type-checks
// from its published .d.ts — what a user's `npm i @corral/...` gets.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const packagesDir = path.join(root, 'packages')
const work = mkdtempSync(path.join(os.tmpdir(), 'corral-pack-'))
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' })

const packages = readdirSync(packagesDir)
  .map((dir) => ({ dir: path.join(packagesDir, dir), json: JSON.parse(readFileSync(path.join(packagesDir, dir, 'package.json'), 'utf8')) }))
  .filter((p) => p.json.private !== true)

let failed = 0
try {
  const tarballs = packages.map((p) => {
    const out = run('pnpm', ['pack', '--pack-destination', work], p.dir).trim().split('\n').pop()
    const tarball = path.isAbsolute(out) ? out : path.join(work, path.basename(out))
    const files = run('tar', ['-tzf', tarball], work).split('\n').filter(Boolean)
    const stray = files.filter((f) => /\/(src|test|bench)\//.test(f) || f.endsWith('.map') || f.endsWith('.tsbuildinfo'))
    if (stray.length > 0 || !files.includes('package/LICENSE') || !files.includes('package/README.md')) {
      console.error(`pack-check: ${p.json.name} ships wrong files: ${stray.join(', ') || 'LICENSE or README.md missing'}`)
      failed++
    }
    return tarball
  })

  const app = path.join(work, 'app')
  run('mkdir', ['-p', app], work)
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'pack-check', private: true, type: 'module' }))
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs, 'fastify@5', 'typescript@5.9.3', '@types/node@20'], app)

  const imports = packages.map((p, i) => `import * as m${i} from '${p.json.name}'`).join('\n')
  writeFileSync(path.join(app, 'check.ts'), `${imports}\nconsole.log(JSON.stringify([${packages.map((_, i) => `Object.keys(m${i}).length`).join(', ')}]))\n`)
  writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: ['node'] },
    files: ['check.ts']
  }))
  run(path.join(app, 'node_modules', '.bin', 'tsc'), ['-p', '.'], app)
  writeFileSync(path.join(app, 'check.mjs'), readFileSync(path.join(app, 'check.ts'), 'utf8'))
  const counts = JSON.parse(run(process.execPath, ['check.mjs'], app))
  packages.forEach((p, i) => {
    if (counts[i] === 0) { console.error(`pack-check: ${p.json.name} exports nothing`); failed++ }
  })
  console.log(`pack-check: ${packages.map((p) => p.json.name).join(', ')} install from their tarballs, import and type-check`)
} catch (err) {
  console.error(`pack-check: ${err.message}`)
  failed++
} finally {
  rmSync(work, { recursive: true, force: true })
}
process.exit(failed === 0 ? 0 : 1)
