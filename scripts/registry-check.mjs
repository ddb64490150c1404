// What `npm install @corral/...` gives a user, from a real registry: starts a
// throwaway Verdaccio on loopback, publishes every package to it with
// `pnpm publish` (workspace ranges become real ones, as in a release),
// installs the packages with plain npm into an empty project outside the
// workspace (@corral/* from Verdaccio through an .npmrc scope, everything else
// from the registry npm is already configured with), checks the published
// files, then runs a clustered app written as the READMEs show, in ESM,
// CommonJS and strict TypeScript: it must answer, reload on SIGHUP and exit 0
// on SIGTERM. The registry and the temp folder go away whatever happens.
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkClusteredApp } from './registry/cluster-app.mjs'
import { killAll, run } from './registry/process.mjs'
import { createUser, startVerdaccio } from './registry/verdaccio.mjs'

const BUDGET_MS = Number(process.env.REGISTRY_CHECK_BUDGET_MS ?? 170_000)
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const fixtures = path.join(root, 'scripts', 'registry', 'app')
const rootJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
const packages = readdirSync(path.join(root, 'packages'))
  .map((dir) => JSON.parse(readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8')))
  .filter((json) => json.private !== true)

const started = Date.now()
const work = mkdtempSync(path.join(os.tmpdir(), 'corral-registry-'))

/** Ends Verdaccio, the apps and any install still running, and removes the temp folder. */
function cleanUp () {
  killAll()
  rmSync(work, { recursive: true, force: true })
}
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => { cleanUp(); process.exit(1) })
// a hung install or app must not hang the test command
setTimeout(() => {
  console.error(`registry-check: over its ${BUDGET_MS} ms budget, stopped`)
  cleanUp()
  process.exit(1)
}, BUDGET_MS).unref()

const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`
const step = (what) => console.log(`registry-check: ${what} (${seconds()})`)

/** The user's npm config plus a token for the local registry: only `pnpm publish` sees it. */
function publishNpmrc (url, token) {
  const userconfig = execFileSync('npm', ['config', 'get', 'userconfig'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  const own = existsSync(userconfig) ? readFileSync(userconfig, 'utf8') : ''
  const file = path.join(work, 'publish.npmrc')
  const host = url.replace(/^http:/, '')
  writeFileSync(file, `${own}\n@corral:registry=${url}\n${host}:_authToken=${token}\n`, { mode: 0o600 })
  return file
}

/** What the tarball of each package holds, as installed: no sources, tests or maps; its commands; no workspace: ranges. */
function checkPublishedFiles (app) {
  const problems = []
  for (const { name } of packages) {
    const dir = path.join(app, 'node_modules', name)
    const files = readdirSync(dir, { recursive: true }).map(String)
    const stray = files.filter((f) => /^(src|test|bench)\//.test(f) || f.endsWith('.map') || f.endsWith('.tsbuildinfo') || f === 'tsconfig.json')
    if (stray.length > 0) problems.push(`${name} ships ${stray.slice(0, 5).join(', ')}`)
    for (const needed of ['LICENSE', 'README.md', 'dist/index.js', 'dist/index.d.ts']) {
      if (!files.includes(needed)) problems.push(`${name} lacks ${needed}`)
    }
    const json = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'))
    const ranges = Object.entries({ ...json.dependencies, ...json.peerDependencies })
    for (const bin of Object.keys(json.bin ?? {})) {
      if (!existsSync(path.join(app, 'node_modules', '.bin', bin))) problems.push(`${name}'s ${bin} command was not installed`)
    }
    const workspace = ranges.filter(([, range]) => range.startsWith('workspace:'))
    if (workspace.length > 0) problems.push(`${name} was published with ${workspace.map(([n, r]) => `${n}@${r}`).join(', ')}`)
  }
  if (problems.length > 0) throw new Error(`published files:\n  ${problems.join('\n  ')}`)
}

let failed = false
try {
  const registryUrl = await startVerdaccio(path.join(work, 'registry'))
  const token = await createUser(registryUrl)
  step(`verdaccio answers on ${registryUrl}`)

  const env = { ...process.env, NPM_CONFIG_USERCONFIG: publishNpmrc(registryUrl, token) }
  await run('pnpm', ['-r', '--filter', './packages/*', 'publish', '--no-git-checks', '--registry', registryUrl], { cwd: root, env })
  step(`published ${packages.map((p) => `${p.name}@${p.version}`).join(', ')}`)

  const app = path.join(work, 'app')
  mkdirSync(app)
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'registry-check-app', private: true, type: 'module' }, null, 2))
  writeFileSync(path.join(app, '.npmrc'), `@corral:registry=${registryUrl}\n`)
  for (const file of readdirSync(fixtures)) copyFileSync(path.join(fixtures, file), path.join(app, file))
  const dev = rootJson.devDependencies
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error',
    '@corral/cluster-boot', '@corral/redis-session', '@corral/health', '@corral/metrics', '@corral/realtime', 'fastify@5', 'ioredis@5',
    `typescript@${dev.typescript}`, `@types/node@${dev['@types/node']}`], { cwd: app, timeout: 120_000 })
  checkPublishedFiles(app)
  step(`npm installed the ${packages.length} packages from verdaccio into an empty project`)

  await run(path.join(app, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: app })
  step('server.ts and require.cts (CommonJS) type-check and compile under strict settings')

  const flavours = [['esm', 'server.mjs'], ['typescript', 'dist/server.js']]
  if (process.features.require_module === true) flavours.splice(1, 0, ['commonjs', 'server.cjs'])
  else console.log(`registry-check: Node ${process.version} has no require(esm): the CommonJS app is skipped (it needs Node >= 20.19 or >= 22.12)`)
  for (const [label, file] of flavours) {
    const { requestsDuringReload } = await checkClusteredApp(label, app, file)
    step(`${label} app: answers, reloads on SIGHUP (${requestsDuringReload} requests answered during the reload, none failed), exits 0 on SIGTERM`)
  }
} catch (err) {
  console.error(`registry-check: ${err.message}`)
  failed = true
} finally {
  cleanUp()
}
console.log(`registry-check: ${failed ? 'FAILED' : 'passed'} in ${seconds()}`)
process.exit(failed ? 1 : 0)
