// Process helpers for the registry check (ports and polling come from @corral/test-helpers).
import { spawn } from 'node:child_process'

/** Rejects once `child` exits: raced against waits that only make sense while it runs. */
export function exitedEarly (child, what) {
  const early = new Promise((_resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`${what} exited early (${signal ?? `code ${code}`})`)))
  })
  early.catch(() => {}) // the exit at the end is expected: only a race looks at this
  return early
}

// every process group started here, so a failure or the time budget can end them all
const groups = new Set()

/** Remembers a process group started with `detached: true` until it exits. */
export function track (child) {
  groups.add(child.pid)
  child.once('exit', () => groups.delete(child.pid))
  return child
}

/** Sends `signal` to a process group started with `detached: true`; quiet if it is gone. */
export function killGroup (pid, signal = 'SIGKILL') {
  try { process.kill(-pid, signal) } catch {}
}

/** Ends every tracked process group still running. */
export function killAll () {
  for (const pid of groups) killGroup(pid)
  groups.clear()
}

/** Runs a command to completion; rejects with its output when it fails. */
export function run (cmd, args, { cwd, env, timeout = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }))
    let out = ''
    child.stdout.on('data', (c) => { out += c })
    child.stderr.on('data', (c) => { out += c })
    const timer = setTimeout(() => killGroup(child.pid), timeout)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(out)
      else reject(new Error(`${cmd} ${args.join(' ')} ${signal ? `was killed (${signal}, ${timeout} ms)` : `exited with ${code}`}:\n${out.slice(-4000)}`))
    })
  })
}
