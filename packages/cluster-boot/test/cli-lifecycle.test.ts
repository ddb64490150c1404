import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'tap'
import { freePort, request, sleep, spawnNode, waitFor } from '@corral/test-helpers'
import { fixture } from './fixtures/cluster.js'

const cli = new URL('../bin/corral.js', import.meta.url).pathname
const ready = (l) => l.msg === 'all workers ready'

// a zombie nobody reaps (re-parented to a pid 1 that does not wait) has exited too
function alive (pid) {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

async function startUnderParent (t, extra: string[] = []) {
  const port = await freePort()
  // the launcher stands for npm/pnpm: it never passes SIGTERM on
  const parent = spawnNode(fixture('cli-parent.mjs'), { args: [cli, 'start', fixture('cli-app.mjs'), '-i', '2', '-p', String(port), ...extra] })
  const workers = new Set<number>()
  const started = new Set<number>()
  t.teardown(async () => {
    for (const pid of [...started, ...workers]) if (alive(pid)) process.kill(pid, 'SIGKILL')
    await parent.stop('SIGKILL')
  })
  const primary = (await parent.waitForLine((l) => l.msg === 'launched')).pid
  started.add(primary)
  await parent.waitForLine(ready, 30_000)
  await waitFor(async () => {
    workers.add((await request(`http://127.0.0.1:${port}/`)).body.pid)
    return workers.size === 2
  }, { timeout: 20_000, message: 'both workers' })
  return { parent, primary, workers: [...workers] }
}

test('the cluster stops when the process that started corral dies without passing SIGTERM on', async (t) => {
  const { parent, primary, workers } = await startUnderParent(t)
  parent.child.kill('SIGKILL')
  await waitFor(() => ![primary, ...workers].some(alive), { timeout: 20_000, message: 'the primary and its workers to exit' })
  t.ok(parent.lines.some((l) => l.msg === 'stopping: draining workers' && l.reason === 'SIGTERM'), 'by a graceful drain')
  t.ok(parent.lines.some((l) => l.msg === 'the process that started this app is gone: stopping'), 'and said why')
})

test('--no-parent-watch keeps the cluster running when its parent dies', async (t) => {
  const { parent, primary, workers } = await startUnderParent(t, ['--no-parent-watch'])
  parent.child.kill('SIGKILL')
  await parent.exited
  // the watch polls every second: three polls would have seen it
  await sleep(3000)
  t.ok([primary, ...workers].every(alive), 'primary and workers still run')
  process.kill(primary, 'SIGTERM')
  await waitFor(() => ![primary, ...workers].some(alive), { timeout: 20_000, message: 'the primary to stop on SIGTERM' })
})

// npm start, npx corral start and pnpm dev: test/orphans.test.ts

test('corral start runs a TypeScript entry', async (t) => {
  const port = await freePort()
  // no coverage from this process tree (tap's processinfo reads this variable): its worker loads dist/ through tsx,
  // which transforms those files again, and c8 cannot merge two sources under one URL: the merge then drops
  // what every other process covered in them (loadConfig, for one)
  const proc = spawnNode(cli, { args: ['start', fixture('cli-app.ts'), '-i', '1', '-p', String(port)], env: { _TAPJS_PROCESSINFO_COVERAGE_: '0' } })
  t.teardown(() => proc.stop('SIGTERM'))
  await proc.waitForLine(ready, 30_000)
  t.match((await request(`http://127.0.0.1:${port}/`)).body, { slot: 0, typed: 'typescript' })
})

const [major, minor] = process.versions.node.split('.').map(Number)
test('a TypeScript entry with no tsx and no type stripping in Node fails with one line saying what to install', { skip: (major > 22 || (major === 22 && minor >= 6)) && 'this Node strips types' }, async (t) => {
  // cluster-boot as an app without tsx installs it: its dist and its dependencies, no tsx anywhere up the tree
  // (and no NODE_PATH or NODE_OPTIONS from tap, through which tsx would be found)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-no-tsx-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const pkg = path.join(dir, 'node_modules', '@corral', 'cluster-boot')
  mkdirSync(path.join(dir, 'node_modules', '@fastify'), { recursive: true })
  cpSync(new URL('../dist', import.meta.url).pathname, path.join(pkg, 'dist'), { recursive: true })
  cpSync(new URL('../bin', import.meta.url).pathname, path.join(pkg, 'bin'), { recursive: true })
  writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: '@corral/cluster-boot', type: 'module' }))
  const here = new URL('../node_modules/', import.meta.url).pathname
  for (const dep of ['fastify', 'pino', 'pino-pretty', 'rotating-file-stream', 'fastify-plugin', '@fastify/error']) symlinkSync(realpathSync(path.join(here, dep)), path.join(dir, 'node_modules', dep))
  const entry = path.join(dir, 'app.ts')
  writeFileSync(entry, 'export default function app (): unknown { return null }\n')
  const proc = spawnNode(path.join(pkg, 'bin', 'corral.js'), { args: ['start', entry, '-i', '1'], cwd: dir, env: { NODE_OPTIONS: '', NODE_PATH: '' } })
  t.teardown(() => proc.stop('SIGKILL'))
  t.equal((await proc.exited).code, 1)
  t.equal(proc.stderr, `corral: ${entry} is TypeScript: Node ${process.versions.node} cannot strip types (Node >= 22.6 can) and tsx is not installed: install it next to the app (npm i -D tsx) or start the compiled .js\n`)
})
