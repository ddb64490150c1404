// Starts one clustered app from the installed packages and checks what a user
// relies on: it answers (app, health, shared session, merged metrics), a
// SIGHUP replaces every worker while requests keep being answered, and a
// SIGTERM stops it with exit code 0.
import { spawn } from 'node:child_process'
import { openSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, waitFor } from '@corral/test-helpers'
import { exitedEarly, killGroup, track } from './process.mjs'

const START_MS = 60_000
const RELOAD_MS = 60_000
const STOP_MS = 30_000

async function json (url, init) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) })
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url} answered ${res.status}`)
  return { body: await res.json(), headers: res.headers }
}

const workerPids = async (admin) => (await json(`${admin}/supervisor`)).body.workers.map((w) => w.pid)

/** Runs `file` (relative to `cwd`) with node; throws on the first broken promise. */
export async function checkClusteredApp (label, cwd, file) {
  const [port, adminPort] = [await freePort(), await freePort()]
  const app = `http://127.0.0.1:${port}`
  const admin = `http://127.0.0.1:${adminPort}`
  const logFile = path.join(cwd, `${label}.log`)
  const log = openSync(logFile, 'a')
  const child = track(spawn(process.execPath, [file], {
    cwd, detached: true, stdio: ['ignore', log, log], env: { ...process.env, PORT: String(port), ADMIN_PORT: String(adminPort) }
  }))
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  const early = exitedEarly(child, label)
  const fail = (what) => new Error(`${label}: ${what}\n--- ${label}.log ---\n${readFileSync(logFile, 'utf8').slice(-3000)}`)
  try {
    try {
      await Promise.race([early, waitFor(async () => {
        const pids = await workerPids(admin)
        if (pids.length !== 2) return false
        await json(`${app}/`)
        return true
      }, { timeout: START_MS, interval: 200, message: 'two workers answering' })])
      const ready = await fetch(`${app}/health/ready`)
      if (ready.status !== 200) throw new Error(`/health/ready answered ${ready.status}`)
      const first = await json(`${app}/visit`, { method: 'POST' })
      const cookie = first.headers.get('set-cookie')?.split(';')[0]
      if (cookie === undefined) throw new Error('POST /visit set no session cookie')
      const visits = []
      // new connections each time, so both workers see the session the primary hosts
      for (let i = 0; i < 4; i++) visits.push((await json(`${app}/visit`, { method: 'POST', headers: { cookie, connection: 'close' } })).body.visits)
      if (visits.join() !== '2,3,4,5') throw new Error(`session visits went ${visits.join()}, expected 2,3,4,5`)
      await waitFor(async () => {
        const res = await fetch(`${admin}/metrics`)
        return /http_requests_total\{[^}]*route="\/visit"[^}]*\} [1-9]/.test(await res.text())
      }, { timeout: 15_000, interval: 200, message: 'the merged /metrics to count /visit' })
    } catch (err) { throw fail(`start-up: ${err.message}`) }

    const before = await workerPids(admin)
    let answered = 0
    const errors = []
    const reloaded = new AbortController()
    const traffic = (async () => {
      while (!reloaded.signal.aborted) {
        try { await json(`${app}/`); answered++ } catch (err) { errors.push(err.message) }
        await sleep(20)
      }
    })()
    process.kill(child.pid, 'SIGHUP')
    try {
      await Promise.race([early, waitFor(async () => {
        const now = await workerPids(admin)
        return now.length === 2 && now.every((pid) => !before.includes(pid))
      }, { timeout: RELOAD_MS, interval: 200, message: `both workers replaced after SIGHUP (before: ${before.join(', ')})` })])
    } catch (err) { throw fail(err.message) } finally {
      reloaded.abort()
      await traffic
    }
    if (errors.length > 0) throw fail(`${errors.length} of ${answered + errors.length} requests failed during the reload: ${errors[0]}`)
    const after = await json(`${app}/`)
    if (before.includes(after.body.pid)) throw fail(`an old worker (${after.body.pid}) still answers after the reload`)

    process.kill(child.pid, 'SIGTERM')
    const stopped = await Promise.race([exit, sleep(STOP_MS, null)])
    if (stopped === null) throw fail(`still running ${STOP_MS} ms after SIGTERM`)
    if (stopped.code !== 0) throw fail(`SIGTERM ended it with ${JSON.stringify(stopped)}, expected exit code 0`)
    return { requestsDuringReload: answered }
  } finally {
    killGroup(child.pid)
  }
}
