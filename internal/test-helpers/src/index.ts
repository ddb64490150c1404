// Test helpers shared by every package: real processes, real ports, real Redis.
import { spawn, type ChildProcess } from 'node:child_process'
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { onExit } from 'signal-exit'

/** What these helpers use of a tap test. */
export interface Tap {
  teardown: (fn: () => unknown) => void
  // a rest tuple, as tap's own assertions take (found, wanted, ...[message, extra]): `message?: string` does not accept tap's Test
  equal: (found: unknown, wanted: unknown, ...message: [] | [string]) => boolean
  same: (found: unknown, wanted: unknown, ...message: [] | [string]) => boolean
}

/**
 * Throws unless a plugin decorated `app` with `name`, and narrows `app` so
 * that a test reaches a decorator typed optional (`fastify.cache`,
 * `fastify.bus`, ...) without `!`, in closures too.
 */
export function assertDecorated<T extends object, K extends keyof T> (app: T, name: K): asserts app is T & { [P in K]-?: NonNullable<T[P]> } {
  if (app[name] == null) throw new Error(`${String(name)} is not decorated`)
}

/**
 * An origin (or any async step) the test controls: `started` resolves once it
 * is called, and it returns `value` only after `release()`, so a test orders
 * events by what happened rather than by sleeping.
 */
export function gated<T> (value: T): { started: Promise<void>, release: () => void, origin: () => Promise<T> } {
  let begin = (): void => {}
  let release = (): void => {}
  const started = new Promise<void>((resolve) => { begin = resolve })
  const released = new Promise<void>((resolve) => { release = resolve })
  return { started, release, origin: async () => { begin(); await released; return value } }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * SIGKILLs the process group `pid` leads (a child spawned with
 * `detached: true`) if this process ends first, by exiting or by a signal
 * (a test runner's timeout, Ctrl-C, a CI job killed): a detached group
 * outlives its parent and would keep holding its port. Returns the function
 * that forgets the group once it was stopped on purpose.
 */
export function killGroupOnExit (pid: number): () => void {
  return onExit(() => {
    try { process.kill(-pid, 'SIGKILL') } catch {}
  })
}

/**
 * Collects the messages of the deprecated-option warnings (code
 * CORRAL_DEP_OPTION) emitted while the test runs; `settled()` resolves with
 * them once the warnings emitted so far have been delivered.
 */
export function deprecationWarnings (t: Tap): { settled: () => Promise<string[]> } {
  const messages: string[] = []
  const onWarning = (w: Error & { code?: string }): void => { if (w.code === 'CORRAL_DEP_OPTION') messages.push(w.message) }
  process.on('warning', onWarning)
  t.teardown(() => process.off('warning', onWarning))
  // process.emitWarning delivers on the next tick
  return { settled: () => new Promise((resolve) => setImmediate(() => resolve([...messages].sort()))) }
}

/** Polls `fn` until it returns something truthy; throws after `timeout` ms. */
function causeText (cause: unknown): string {
  const { code, message } = cause as { code?: string, message?: string }
  return code ?? String(message)
}

export interface WaitForOptions {
  /** ms before giving up */
  timeout?: number
  /** ms between tries */
  interval?: number
  /** what is waited for, in the error */
  message?: string
}

/** what a truthy check lets through */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>

export async function waitFor<T> (fn: () => T | Promise<T>, { timeout = 30_000, interval = 50, message = 'condition' }: WaitForOptions = {}): Promise<Truthy<T>> {
  const deadline = Date.now() + timeout
  let last: Error | undefined
  while (Date.now() < deadline) {
    try {
      const value = await fn()
      if (value) return value as Truthy<T>
    } catch (err) {
      last = err as Error
    }
    await sleep(interval)
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${message}${last ? `: ${last.message}${last.cause ? ` (${causeText(last.cause)})` : ''}` : ''}`)
}

/** One line of a child's stdout: the parsed JSON (pino), or `{ text }` when not JSON; `any`, as it is whatever the child wrote. */
export type LogLine = Record<string, any>

export interface ExitResult {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface SpawnNodeOptions {
  args?: string[]
  env?: Record<string, string | undefined>
  cwd?: string
}

export interface SpawnedNode {
  child: ChildProcess & { stdout: NonNullable<ChildProcess['stdout']>, stderr: NonNullable<ChildProcess['stderr']> }
  lines: LogLine[]
  readonly stderr: string
  exited: Promise<ExitResult>
  /** the first line (already seen or still to come) for which `pred` is truthy */
  waitForLine (pred: (line: LogLine) => unknown, timeout?: number): Promise<LogLine>
  /** sends `signal` (SIGKILL after `timeout` ms) and resolves with the exit */
  stop (signal?: NodeJS.Signals, timeout?: number): Promise<ExitResult>
}

/**
 * Spawns `node file` and collects its output. JSON lines (pino) are parsed
 * into `lines`; `waitForLine(pred)` resolves with the first line matching.
 */
export function spawnNode (file: string, { args = [], env = {}, cwd }: SpawnNodeOptions = {}): SpawnedNode {
  const child = spawn(process.execPath, [file, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const lines: LogLine[] = []
  let stdout = ''
  let stderr = ''
  const waiters = new Set<{ pred: (line: LogLine) => unknown, resolve: (line: LogLine) => void }>()
  const feed = (chunk: string): void => {
    stdout += chunk
    let nl
    while ((nl = stdout.indexOf('\n')) !== -1) {
      const text = stdout.slice(0, nl)
      stdout = stdout.slice(nl + 1)
      let line: LogLine
      try { line = JSON.parse(text) } catch { line = { text } }
      lines.push(line)
      for (const w of waiters) if (w.pred(line)) { waiters.delete(w); w.resolve(line) }
    }
  }
  child.stdout.setEncoding('utf8').on('data', feed)
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c })
  const exited = new Promise<ExitResult>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  return {
    child,
    lines,
    get stderr () { return stderr },
    exited,
    waitForLine (pred, timeout = 15_000) {
      const found = lines.find(pred)
      if (found) return Promise.resolve(found)
      return new Promise<LogLine>((resolve, reject) => {
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

function redisPing (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.setTimeout(500)
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (d) => { socket.destroy(); resolve(d.toString().startsWith('+PONG')) })
    socket.on('error', () => resolve(false))
    socket.on('timeout', () => { socket.destroy(); resolve(false) })
  })
}

export interface RedisServer {
  port: number
  url: string
  start (): Promise<void>
  /** SIGSTOP: the server hangs with its connections open (a stuck Redis, not a refused one) */
  pause (): void
  resume (): void
  stop (): Promise<void>
  close (): Promise<void>
}

/**
 * A redis-server of the test's own on a spare port, to stop and start at will
 * (the shared one on 6379 is never touched). Call `close()` in teardown.
 */
export async function startRedisServer (): Promise<RedisServer> {
  const port = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-redis-'))
  let proc: ChildProcess | undefined
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start () {
      proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' })
      await waitFor(() => redisPing(port), { timeout: 10_000, message: `redis-server on ${port}` })
    },
    /** SIGSTOP: the server hangs with its connections open (a stuck Redis, not a refused one) */
    pause () { proc?.kill('SIGSTOP') },
    resume () { proc?.kill('SIGCONT') },
    async stop () {
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
      const running = proc
      running.kill('SIGCONT')
      const exited = new Promise((resolve) => running.once('exit', resolve))
      running.kill('SIGKILL')
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

export interface RequestOptions {
  method?: string
  headers?: OutgoingHttpHeaders
  /** a string is sent as is; anything else as JSON */
  body?: unknown
}

export interface Response {
  status: number
  headers: IncomingHttpHeaders
  /** the parsed JSON, or the text when not JSON */
  body: any
}

/**
 * One HTTP request on a fresh connection (no keep-alive pool), so that in a
 * cluster each request can land on another worker. Resolves { status, headers, body }.
 */
export function request (url: string, { method = 'GET', headers = {}, body }: RequestOptions = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
    const req = http.request(url, {
      method,
      agent: false,
      headers: { ...(payload !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers }
    }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => {
        let parsed: any = text
        try { parsed = JSON.parse(text) } catch {}
        resolve({ status: res.statusCode as number, headers: res.headers, body: parsed })
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** The `corral` CLI of this checkout. */
export const corralCli = fileURLToPath(new URL('../../../packages/cluster-boot/bin/corral.js', import.meta.url))

export interface StartedApp {
  proc: SpawnedNode
  url: string
  get: (path: string, init?: RequestOptions) => Promise<Response>
  admin: (path: string, init?: RequestOptions) => Promise<Response>
}

/**
 * A cluster app started the two ways a user starts one, with 2 workers on
 * free ports: `how: 'boot'` runs `bootFile` (it reads PORT and ADMIN_PORT),
 * `how: 'cli'` runs `corral start appFile` (a module whose default export
 * builds the app). Both with round-robin scheduling where the file or the
 * command line can say so: the tests that use it need both workers reached.
 * Resolves once every worker is ready.
 */
export async function startApp (t: Tap, how: 'boot' | 'cli', { bootFile, appFile, env = {} }: { bootFile?: string, appFile?: string, env?: Record<string, string> }): Promise<StartedApp> {
  const port = await freePort()
  const adminPort = await freePort()
  const proc = how === 'boot'
    ? spawnNode(bootFile as string, { env: { PORT: String(port), ADMIN_PORT: String(adminPort), ...env } })
    : spawnNode(corralCli, { args: ['start', appFile as string, '-i', '2', '-p', String(port), '--admin-port', String(adminPort), '--scheduling', 'rr'], env })
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
 * cookie on fresh connections until both workers of a 2-worker app answered
 * (the OS spreads new connections at random under 'reuseport': at least 12
 * visits, at most 60); asserts each saw every write. Resolves with the cookie.
 */
export async function visitBothWorkers (t: Tap, url: string): Promise<string> {
  const login = await request(`${url}/login`, { method: 'POST', body: { user: 'alice' } })
  t.equal(login.status, 200)
  const cookie = ([] as string[]).concat(login.headers['set-cookie'] ?? [])[0]?.split(';')[0] ?? ''
  const slots = new Set<number>()
  const visits: number[] = []
  for (let i = 0; i < 60 && (i < 12 || slots.size < 2); i++) {
    const res = await request(`${url}/me`, { headers: { cookie } })
    slots.add(res.body.slot)
    visits.push(res.body.visits)
  }
  t.same([...slots].sort(), [0, 1], 'both workers served the session')
  t.same(visits, Array.from({ length: visits.length }, (_, i) => i + 1), 'every worker saw every write')
  return cookie
}
