// Small process and network helpers for the registry check.
import { spawn } from 'node:child_process'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** A port nothing listens on right now (the OS picks it). */
export function freePort () {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Polls `check` until it returns true; throws naming `what` after `ms`. */
export async function waitFor (check, ms, what) {
  const deadline = Date.now() + ms
  let last
  while (Date.now() < deadline) {
    try {
      if (await check()) return
    } catch (err) {
      last = err
      if (err.fatal === true) throw err
    }
    await sleep(200)
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last.message}` : ''}`)
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
