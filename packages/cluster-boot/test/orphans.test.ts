// The cluster never outlives what started it: npm, pnpm and npx do not pass SIGTERM on,
// so each launcher is stopped the way a supervisor or a CI runner stops it, by its pid alone.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test, type Test } from 'tap'
import { freePort, request, waitFor } from '@corral/test-helpers'
import { fixture } from './fixtures/cluster.js'

type Line = Record<string, unknown>

const cli = new URL('../bin/corral.js', import.meta.url).pathname
const root = new URL('../../../', import.meta.url).pathname

// a zombie nobody reaps (re-parented to a pid 1 that does not wait) has exited too
function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** Starts `command` in a process group of its own, the way a terminal or a supervisor does; the group is killed at teardown. */
function launch (t: Test, command: string, args: string[], cwd: string, env: Record<string, string>) {
  const child: ChildProcess = spawn(command, args, { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: Line[] = []
  let out = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk
    const parts = out.split('\n')
    out = parts.pop() ?? ''
    for (const part of parts) {
      try { lines.push(JSON.parse(part) as Line) } catch {}
    }
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const pids = new Set<number>()
  t.teardown(() => {
    try { process.kill(-(child.pid as number), 'SIGKILL') } catch {}
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL')
  })
  return { child, lines, pids, stderr: () => stderr }
}

async function stopsWithItsLauncher (t: Test, launched: ReturnType<typeof launch>, port: number): Promise<void> {
  const start = await waitFor(() => launched.lines.find((l) => typeof l.msg === 'string' && /^starting .*primary pid \d+/.test(l.msg)), { timeout: 90_000, message: `the start line; stderr: ${launched.stderr().slice(-500)}` }) as Line
  const primary = start.pid as number
  launched.pids.add(primary)
  t.not(primary, launched.child.pid, 'the primary is not the launcher')
  const workers = new Set<number>()
  await waitFor(async () => {
    workers.add((await request(`http://127.0.0.1:${port}/`)).body.pid)
    return workers.size === 2
  }, { timeout: 60_000, message: 'both workers to answer' })
  for (const pid of workers) launched.pids.add(pid)

  // the launcher's pid alone: npm and pnpm die without passing it on
  process.kill(launched.child.pid as number, 'SIGTERM')
  await waitFor(() => ![primary, ...workers].some(alive), { timeout: 20_000, interval: 100, message: 'the primary and its workers to exit' })
  t.pass('primary and workers exited')
  t.ok(launched.lines.some((l) => l.msg === 'the process that started this app is gone: stopping'), 'the primary saw its launcher go')
  t.ok(launched.lines.some((l) => l.msg === 'stopping: draining workers' && l.reason === 'SIGTERM'), 'and drained its workers')
}

/** A package whose `start` script is `corral start`, with corral installed in its node_modules/.bin. */
function packageDir (t: Test, port: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-launcher-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(path.join(dir, 'node_modules', '.bin'), { recursive: true })
  symlinkSync(cli, path.join(dir, 'node_modules', '.bin', 'corral'))
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name: 'launched',
    private: true,
    scripts: { start: `corral start ${fixture('cli-app.mjs')} -i 2 -p ${port}` }
  }))
  return dir
}

const missing = (bin: string): string | false => spawnSync(bin, ['--version']).status === 0 ? false : `${bin} is not installed`
// no registry is ever asked: corral is in the package's node_modules/.bin
const offline = { npm_config_offline: 'true', npm_config_update_notifier: 'false', CORRAL_HOME: '' }

test('`npm start` (corral start) stopped with SIGTERM leaves no cluster behind', { skip: missing('npm') }, async (t) => {
  const port = await freePort()
  const dir = packageDir(t, port)
  await stopsWithItsLauncher(t, launch(t, 'npm', ['start'], dir, { ...offline, CORRAL_HOME: dir }), port)
})

test('`npx corral start` stopped with SIGTERM leaves no cluster behind', { skip: missing('npx') }, async (t) => {
  const port = await freePort()
  const dir = packageDir(t, port)
  await stopsWithItsLauncher(t, launch(t, 'npx', ['corral', 'start', fixture('cli-app.mjs'), '-i', '2', '-p', String(port)], dir, { ...offline, CORRAL_HOME: dir }), port)
})

test('`pnpm dev` (the example app, through boot()) stopped with SIGTERM leaves no cluster behind', { skip: missing('pnpm') }, async (t) => {
  const port = await freePort()
  const adminPort = await freePort()
  const home = mkdtempSync(path.join(os.tmpdir(), 'corral-dev-'))
  t.teardown(() => rmSync(home, { recursive: true, force: true }))
  await stopsWithItsLauncher(t, launch(t, 'pnpm', ['dev'], root, { PORT: String(port), ADMIN_PORT: String(adminPort), WORKERS: '2', CORRAL_HOME: home }), port)
})

test('CORRAL_PARENT_WATCH=0 (corral start --no-parent-watch) keeps the cluster when its launcher goes', { skip: missing('npm') }, async (t) => {
  const port = await freePort()
  const dir = packageDir(t, port)
  const launched = launch(t, 'npm', ['start'], dir, { ...offline, CORRAL_HOME: dir, CORRAL_PARENT_WATCH: '0' })
  const start = await waitFor(() => launched.lines.find((l) => typeof l.msg === 'string' && /^starting /.test(l.msg)), { timeout: 60_000, message: 'the start line' }) as Line
  launched.pids.add(start.pid as number)
  await waitFor(async () => (await request(`http://127.0.0.1:${port}/`)).status === 200, { timeout: 30_000, message: 'the app' })
  process.kill(launched.child.pid as number, 'SIGTERM')
  await waitFor(() => !alive(launched.child.pid as number), { message: 'npm to exit' })
  // the watch polls every second: three polls would have seen it
  await new Promise((resolve) => setTimeout(resolve, 3000))
  t.ok(alive(start.pid as number), 'the primary still runs')
  t.equal((await request(`http://127.0.0.1:${port}/`)).status, 200, 'and serves')
})
