// What the realtime tests share: the fixture cluster started as a real
// process, and real clients (ws, socket.io-client) that record what happens.
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import WebSocket from 'ws'
import { io as ioClient, type Socket as ClientSocket, type ManagerOptions, type SocketOptions } from 'socket.io-client'
import { freePort, request, spawnNode, waitFor, sleep, REDIS_URL } from '@corral/test-helpers'

export { freePort, request, waitFor, sleep, REDIS_URL }

const here = path.dirname(fileURLToPath(import.meta.url))
const FIXTURE = path.join(here, 'fixtures', 'cluster.mjs')

/** Keys and channels of their own for each test on the shared Redis. */
export function uniquePrefix (): string {
  return `corral-realtime-test:${process.pid}:${Date.now()}:`
}

/** Deletes what a test left on the shared Redis under `prefix`. */
export async function cleanRedis (prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL)
  try {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
  } finally {
    redis.disconnect()
  }
}

export interface Tap {
  teardown (fn: () => unknown): void
}

export interface WorkerRow { slot: number, pid: number, state: string, [key: string]: unknown }

export interface Cluster {
  port: number
  adminPort: number
  pid: number
  admin (p: string, init?: { method?: string, body?: unknown }): Promise<{ status: number, body: any }>
  workers (): Promise<WorkerRow[]>
  ready (count?: number): Promise<WorkerRow[]>
  broadcast (data: unknown): Promise<{ status: number, body: any }>
  lines: Array<Record<string, unknown>>
  stderr: () => string
}

/** The fixture cluster; stopped in teardown, and every worker pid it ever showed is SIGKILLed after. */
export async function startCluster (t: Tap, env: Record<string, string> = {}): Promise<Cluster> {
  const port = Number(env.PORT ?? await freePort())
  const adminPort = await freePort()
  const workers = Number(env.WORKERS ?? 2)
  const proc = spawnNode(FIXTURE, { env: { PORT: String(port), ADMIN_PORT: String(adminPort), WORKERS: String(workers), REDIS_URL: '', ...env } })
  const seen = new Set<number>()
  t.teardown(async () => {
    await proc.stop('SIGTERM', 15_000)
    for (const pid of seen) {
      try { process.kill(pid, 'SIGKILL') } catch {}
    }
  })
  const admin = (p: string, init: { method?: string, body?: unknown } = {}) =>
    request(`http://127.0.0.1:${adminPort}${p}`, { ...init, headers: { 'x-corral-admin': '1' } })
  const list = async (): Promise<WorkerRow[]> => {
    const { body } = await admin('/supervisor')
    for (const w of body.workers) seen.add(w.pid)
    return body.workers
  }
  const cluster: Cluster = {
    port,
    adminPort,
    pid: proc.child.pid as number,
    admin,
    workers: list,
    async ready (count = workers) {
      return waitFor(async () => {
        const rows = await list()
        return rows.length === count && rows.every((w) => w.state === 'ready') ? rows : false
      }, { timeout: 60_000, message: `${count} ready workers; stderr: ${proc.stderr.slice(-1000)}` })
    },
    broadcast: (data) => request(`http://${env.HOST ?? '127.0.0.1'}:${port}/broadcast`, { method: 'POST', body: data }),
    lines: proc.lines,
    stderr: () => proc.stderr
  }
  await cluster.ready()
  return cluster
}

export interface WsClient {
  socket: WebSocket
  /** the worker that said hello last */
  slot: number | null
  pid: number | null
  messages: any[]
  /** close codes of the connections that had opened, in order */
  closes: number[]
  /** when the last of them closed */
  closedAt: number | null
  /** attempts to reconnect that were refused (a draining worker answers 503) */
  refused: number
  /** connections made (1 + reconnects) */
  connects: number
  reconnectedAt: number | null
  stop (): void
}

/**
 * A WebSocket client at /ws that resolves once the worker said hello; with
 * `reconnect`, it connects again after a close, as the chat page does (100 ms
 * after a 1001, or after a refused attempt).
 */
export function wsClient (port: number, { reconnect = false, localAddress, host = '127.0.0.1' }: { reconnect?: boolean, localAddress?: string, host?: string } = {}): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    let stopped = false
    const client: WsClient = {
      socket: undefined as unknown as WebSocket,
      slot: null,
      pid: null,
      messages: [],
      closes: [],
      closedAt: null,
      refused: 0,
      connects: 0,
      reconnectedAt: null,
      stop () {
        stopped = true
        client.socket.terminate()
      }
    }
    const open = (): void => {
      const socket = new WebSocket(`ws://${host}:${port}/ws`, { localAddress })
      client.socket = socket
      socket.on('message', (raw) => {
        const data = JSON.parse(raw.toString())
        if (data.hello !== undefined) {
          client.slot = data.hello.slot
          client.pid = data.hello.pid
          client.connects++
          if (client.connects > 1) client.reconnectedAt = Date.now()
          resolve(client)
        } else {
          client.messages.push(data)
        }
      })
      socket.on('error', (err) => { if (client.connects === 0 && !reconnect) reject(err) })
      let opened = false
      socket.on('open', () => { opened = true })
      socket.on('close', (code) => {
        if (client.socket !== socket) return
        if (opened) {
          client.closes.push(code)
          client.closedAt = Date.now()
        } else {
          client.refused++
        }
        if (reconnect && !stopped) setTimeout(open, code === 1001 ? 100 : 200)
      })
    }
    open()
  })
}

/** Connects `count` WebSocket clients, `batch` at a time. */
export async function wsClients (port: number, count: number, options: Parameters<typeof wsClient>[1] = {}, batch = 50): Promise<WsClient[]> {
  const clients: WsClient[] = []
  for (let i = 0; i < count; i += batch) {
    clients.push(...await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => wsClient(port, options))))
  }
  return clients
}

export function closeAll (clients: Array<{ stop (): void }>): void {
  for (const c of clients) c.stop()
}

export interface SioClient {
  socket: ClientSocket
  slot: number | null
  hellos: Array<{ slot: number, pid: number, recovered: boolean }>
  news: any[]
  /** why each connection failed or ended: connect_error messages and disconnect reasons, with the server's answer when there was one */
  errors: string[]
  stop (): void
}

/** A socket.io-client that keeps its hellos, the 'news' it gets and every error. */
export function sioClient (port: number, options: Partial<ManagerOptions & SocketOptions> & { localAddress?: string, host?: string } = {}): SioClient {
  const { localAddress, host = '127.0.0.1', ...rest } = options
  const agent = localAddress === undefined ? undefined : new http.Agent({ localAddress } as http.AgentOptions)
  const socket = ioClient(`http://${host}:${port}`, {
    reconnectionDelay: 100,
    reconnectionDelayMax: 1000,
    ...(agent === undefined ? {} : { agent: agent as unknown as string }),
    ...(localAddress === undefined ? {} : { localAddress } as Record<string, string>),
    ...rest
  })
  const client: SioClient = {
    socket,
    slot: null,
    hellos: [],
    news: [],
    errors: [],
    stop () {
      socket.close()
      agent?.destroy()
    }
  }
  const detail = (err: any): string => {
    const text = err?.context?.responseText ?? err?.description?.message ?? err?.description ?? ''
    return typeof text === 'string' ? text : JSON.stringify(text)
  }
  socket.on('hello', (hello) => {
    client.slot = hello.slot
    client.hellos.push(hello)
  })
  socket.on('news', (data) => { client.news.push(data) })
  socket.on('connect_error', (err: any) => { client.errors.push(`connect_error: ${err.message} ${detail(err)}`) })
  socket.on('disconnect', (reason: string, details: any) => {
    if (reason !== 'io client disconnect') client.errors.push(`disconnect: ${reason} ${detail(details)}`)
  })
  return client
}

/** Resolves once the client had `count` hellos (connections, recovered or not). */
export async function hellos (client: SioClient, count = 1, timeout = 15_000): Promise<void> {
  try {
    await waitFor(() => client.hellos.length >= count, { timeout, interval: 20, message: `hello ${count}` })
  } catch (err) {
    throw new Error(`${(err as Error).message}; connected: ${client.socket.connected}, errors: ${client.errors.join('; ') || 'none'}`)
  }
}
