// Test helpers shared by every package: real processes, real ports, real Redis.
import { spawn } from 'node:child_process'
import http from 'node:http'
import net from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** A TCP port free on 127.0.0.1 right now. */
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

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `fn` until it returns something truthy; throws after `timeout` ms. */
export async function waitFor (fn, { timeout = 10_000, interval = 50, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout
  let last
  while (Date.now() < deadline) {
    try {
      const value = await fn()
      if (value) return value
    } catch (err) {
      last = err
    }
    await sleep(interval)
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${message}${last ? `: ${last.message}${last.cause ? ` (${last.cause.code ?? last.cause.message})` : ''}` : ''}`)
}

/**
 * Spawns `node file` and collects its output. JSON lines (pino) are parsed
 * into `lines`; `waitForLine(pred)` resolves with the first line matching.
 */
export function spawnNode (file, { args = [], env = {}, cwd } = {}) {
  const child = spawn(process.execPath, [file, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const lines = []
  let stdout = ''
  let stderr = ''
  const waiters = new Set()
  const feed = (chunk) => {
    stdout += chunk
    let nl
    while ((nl = stdout.indexOf('\n')) !== -1) {
      const text = stdout.slice(0, nl)
      stdout = stdout.slice(nl + 1)
      let line
      try { line = JSON.parse(text) } catch { line = { text } }
      lines.push(line)
      for (const w of waiters) if (w.pred(line)) { waiters.delete(w); w.resolve(line) }
    }
  }
  child.stdout.setEncoding('utf8').on('data', feed)
  child.stderr.setEncoding('utf8').on('data', (c) => { stderr += c })
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  return {
    child,
    lines,
    get stderr () { return stderr },
    exited,
    waitForLine (pred, timeout = 15_000) {
      const found = lines.find(pred)
      if (found) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const w = { pred, resolve }
        waiters.add(w)
        const timer = setTimeout(() => {
          waiters.delete(w)
          reject(new Error(`no matching log line within ${timeout} ms; stderr: ${stderr.slice(-2000)}`))
        }, timeout)
        timer.unref()
      })
    },
    async stop (signal = 'SIGTERM', timeout = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited
      child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
      const result = await exited
      clearTimeout(timer)
      return result
    }
  }
}

function redisPing (port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.setTimeout(500)
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (d) => { socket.destroy(); resolve(d.toString().startsWith('+PONG')) })
    socket.on('error', () => resolve(false))
    socket.on('timeout', () => { socket.destroy(); resolve(false) })
  })
}

/**
 * A redis-server of the test's own on a spare port, to stop and start at will
 * (the shared one on 6379 is never touched). Call `close()` in teardown.
 */
export async function startRedisServer () {
  const port = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-redis-'))
  let proc
  const server = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start () {
      proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' })
      await waitFor(() => redisPing(port), { timeout: 10_000, message: `redis-server on ${port}` })
    },
    /** SIGSTOP: the server hangs with its connections open (a stuck Redis, not a refused one) */
    pause () { proc.kill('SIGSTOP') },
    resume () { proc.kill('SIGCONT') },
    async stop () {
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGCONT')
      const exited = new Promise((resolve) => proc.once('exit', resolve))
      proc.kill('SIGKILL')
      await exited
    },
    async close () {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  await server.start()
  return server
}

/**
 * One HTTP request on a fresh connection (no keep-alive pool), so that in a
 * cluster each request can land on another worker. Resolves { status, headers, body }.
 */
export function request (url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
    const req = http.request(url, {
      method,
      agent: false,
      headers: { ...(payload !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers }
    }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c) => { text += c })
      res.on('end', () => {
        let parsed = text
        try { parsed = JSON.parse(text) } catch {}
        resolve({ status: res.statusCode, headers: res.headers, body: parsed })
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** The `corral` CLI of this checkout. */
export const corralCli = fileURLToPath(new URL('../../packages/cluster-boot/bin/corral.js', import.meta.url))

/**
 * A cluster app started the two ways a user starts one, with 2 workers on
 * free ports: `how: 'boot'` runs `bootFile` (it reads PORT and ADMIN_PORT),
 * `how: 'cli'` runs `corral start appFile` (a module whose default export
 * builds the app). Resolves once every worker is ready.
 */
export async function startApp (t, how, { bootFile, appFile, env = {} }) {
  const port = await freePort()
  const adminPort = await freePort()
  const proc = how === 'boot'
    ? spawnNode(bootFile, { env: { PORT: String(port), ADMIN_PORT: String(adminPort), ...env } })
    : spawnNode(corralCli, { args: ['start', appFile, '-i', '2', '-p', String(port), '--admin-port', String(adminPort)], env })
  t.teardown(() => proc.stop())
  await proc.waitForLine((l) => l.msg === 'all workers ready', 30_000)
  return {
    proc,
    url: `http://127.0.0.1:${port}`,
    get: (p, init) => request(`http://127.0.0.1:${port}${p}`, init),
    admin: (p, init) => request(`http://127.0.0.1:${adminPort}${p}`, init)
  }
}

/**
 * Logs in (POST /login { user: 'alice' }), then calls GET /me with the session
 * cookie on fresh connections until both workers of a 2-worker app answered;
 * asserts each saw every write. Resolves with the cookie.
 */
export async function visitBothWorkers (t, url) {
  const login = await request(`${url}/login`, { method: 'POST', body: { user: 'alice' } })
  t.equal(login.status, 200)
  const cookie = [].concat(login.headers['set-cookie'] ?? [])[0]?.split(';')[0]
  const slots = new Set()
  const visits = []
  for (let i = 0; i < 12; i++) {
    const res = await request(`${url}/me`, { headers: { cookie } })
    slots.add(res.body.slot)
    visits.push(res.body.visits)
  }
  t.same([...slots].sort(), [0, 1], 'both workers served the session')
  t.same(visits, Array.from({ length: 12 }, (_, i) => i + 1), 'every worker saw every write')
  return cookie
}
