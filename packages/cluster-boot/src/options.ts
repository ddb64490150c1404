import os from 'node:os'
import type { FastifyInstance } from 'fastify'
import type { Logger, LoggerOptions } from 'pino'
import path from 'node:path'
import { isLoopback } from './primary/admin.js'
import { InvalidOptionError } from './errors.js'
import { optionChecks, type OptionChecks } from './option-checks.js'
import { defaultLogDir } from './log-files.js'
import type { WorkerContext } from './worker/worker-context.js'

export type Scheduling = 'rr' | 'none' | 'reuseport' | 'sticky'
/** 'auto' (the default): 'none', or 'reuseport' where Node has it and sysctl net.ipv4.tcp_migrate_req is 1. */
export type SchedulingOption = Scheduling | 'auto'

/**
 * What `scheduling: 'sticky'` routes a connection by: 'ip', the client address;
 * 'sid', Socket.IO's `sid` query parameter in the first request; { cookie },
 * that cookie's value. A first request without the key falls back: 'sid' to
 * the next slot in turn (a handshake), a cookie to the address.
 */
export type StickyKey = 'ip' | 'sid' | { cookie: string }

export interface StickyOptions {
  /** the stable key a connection is routed by (default 'ip') */
  key?: StickyKey
  /** proxies in front whose X-Forwarded-For entries are trusted for the address: false/0 (default), true (1) or a count */
  trustProxy?: boolean | number
}

/** `sticky` as checked, trustProxy as a count of hops. */
export interface ResolvedStickyOptions {
  key: StickyKey
  trustProxy: number
}

/** Builds the app in each worker. May be async; gets the worker it runs in. */
export type AppFactory = (worker: WorkerContext) => FastifyInstance | Promise<FastifyInstance>

/** Runs once in the primary before any worker is forked: admin routes and plugins of your own on `admin` (packages' primary sides load by themselves, `worker.usePrimary`). */
export type PrimarySetup = (admin: FastifyInstance) => void | Promise<void>

export interface AdminOptions {
  /** port of the primary's admin HTTP server */
  port: number
  /** interface it binds; loopback unless you say otherwise (default '127.0.0.1') */
  host?: string
  /** bearer token every admin request must carry (default: env CORRAL_ADMIN_TOKEN); required beyond loopback */
  token?: string
  /** more names the admin server answers to in the Host header, e.g. 'admin.internal' or 'admin.internal:9100' */
  allowedHosts?: string[]
}

export interface ResolvedAdminOptions {
  port: number
  host: string
  token: string | undefined
  allowedHosts: string[]
}

export interface LogsOptions {
  /** directory of the files `<app>.log`, `<app>.log.1` (newest rotated), ... (default: ~/.corral/logs, or $CORRAL_HOME/logs) */
  dir?: string
  /** size at which `<app>.log` is rotated: bytes or '10M' (default '10M') */
  maxSize?: number | string
  /** rotated files kept besides the current one (default 5) */
  maxFiles?: number
}

export interface ResolvedLogsOptions {
  dir: string
  maxSize: number
  maxFiles: number
}

export interface BootOptions {
  /** builds the Fastify instance in each worker */
  app: AppFactory
  /** 'max' (os.availableParallelism()) or a count; default: env WORKERS, else 'max' */
  workers?: number | 'max' | string
  /** port the workers share; default: env PORT, else 3000 */
  port?: number | string
  /** interface to listen on; default: env HOST, else '127.0.0.1' (Fastify's own default) */
  host?: string
  /** ms a draining worker has before SIGKILL (default 10000) */
  killTimeout?: number
  /** ms a new worker has to become ready, at start and in reloads (default 15000) */
  readyTimeout?: number
  /** workers of a slot in a row that die before ever becoming ready; the primary gives up only when every slot passed it (default 10). It does not cap the respawn delay: `maxRestartDelay` does */
  maxRestarts?: number
  /** no longer used: crash-looping slots back off instead of stopping the primary (accepted so old configs still start) */
  restartWindow?: number
  /** first respawn delay in ms, doubled per consecutive crash of a slot (default 100) */
  restartDelay?: number
  /** ceiling of the respawn delay in ms (default 15000) */
  maxRestartDelay?: number
  /** ms a worker must stay up for its slot's backoff to reset (default 5000) */
  minUptime?: number
  /** RSS above which a worker is replaced gracefully: bytes or '512M' / '1G' (default: off) */
  maxMemory?: number | string
  /**
   * 'auto' (default: 'reuseport' where supported, else 'none'), 'rr' (the primary accepts and distributes),
   * 'none' (the workers accept from one shared socket), 'reuseport' (each worker binds; Node >= 22.12 on Linux),
   * 'sticky' (the primary routes each client to one slot)
   */
  scheduling?: SchedulingOption
  /** how `scheduling: 'sticky'` routes (default { key: 'ip' }) */
  sticky?: StickyOptions
  /** ms between a worker's stats reports (memory, event loop) to the primary (default 1000) */
  statsInterval?: number
  /** ms without a stats report after which a ready worker is marked unresponsive and replaced; 0 or false: off (default 30000) */
  hangTimeout?: number | false
  /** ms after a drain starts before keep-alive connections still idle are closed (default 1000) */
  idleCloseDelay?: number
  /** pino logger or pino options; false silences cluster-boot's own logs */
  logger?: Logger | LoggerOptions | false
  /** the primary's admin HTTP server; off unless given */
  admin?: AdminOptions | false
  /** primary-side setup: routes and plugins of your own on the admin instance (the metrics aggregator, health view and session host load by themselves) */
  primary?: PrimarySetup
  /** environment for the workers, on top of the primary's own */
  env?: Record<string, string>
  /** log files of the workers' output and the primary's lines, rotated by size; false: only the primary's stdout */
  logs?: LogsOptions | false
}

export interface ResolvedOptions {
  app: AppFactory
  workers: number
  port: number
  host: string
  killTimeout: number
  readyTimeout: number
  maxRestarts: number
  restartWindow: number
  restartDelay: number
  maxRestartDelay: number
  minUptime: number
  maxMemory: number
  scheduling: SchedulingOption
  sticky: ResolvedStickyOptions
  statsInterval: number
  hangTimeout: number
  idleCloseDelay: number
  logger: Logger | LoggerOptions | false
  admin: ResolvedAdminOptions | false
  primary: PrimarySetup | undefined
  env: Record<string, string>
  logs: ResolvedLogsOptions | false
}

const MAX_WORKERS = 1024
const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, KB: 1024, M: 1024 ** 2, MB: 1024 ** 2, G: 1024 ** 3, GB: 1024 ** 3 }

const check: OptionChecks = optionChecks(InvalidOptionError, '@corral/cluster-boot')

function fail (name: string, expected: string, value: unknown): never {
  return check.fail(name, expected, value)
}

/** Numbers as env vars and the CLI give them too: '4' is 4. */
function integer (name: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  return check.integer(name, value, fallback, { min, max, strings: true })
}

export function parseWorkers (value: unknown, name = 'workers'): number {
  if (value === 'max') return os.availableParallelism()
  return integer(name, value, os.availableParallelism(), 1, MAX_WORKERS)
}

/** '512M', '1G', '300MB', 1048576 → bytes. */
export function parseBytes (value: unknown, name = 'maxMemory'): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value
  if (typeof value === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([KMG]?B?)\s*$/i.exec(value)
    if (match !== null) {
      const bytes = Math.floor(Number(match[1]) * UNITS[match[2].toUpperCase()])
      if (bytes > 0) return bytes
    }
  }
  return fail(name, "a positive byte count or a size like '512M' or '1G'", value)
}

function host (name: string, value: unknown, fallback: string): string {
  if (value !== undefined && (typeof value !== 'string' || value.length === 0)) fail(name, 'a non-empty host name or address', value)
  return (value as string | undefined) ?? fallback
}

const MIN_TOKEN = 16

/** The admin server's options; a token is required once it listens beyond loopback, and never shown in an error. */
function adminOptions (value: BootOptions['admin'], env: NodeJS.ProcessEnv): ResolvedAdminOptions | false {
  if (value === undefined || value === false) return false
  if (value === null || typeof value !== 'object') fail('admin', 'an object { port, host?, token?, allowedHosts? } or false', value)
  const port = integer('admin.port', value.port, NaN, 0, 65535)
  if (Number.isNaN(port)) fail('admin.port', 'an integer from 0 to 65535', undefined)
  const adminHost = host('admin.host', value.host, '127.0.0.1')
  const fromEnv = value.token === undefined && env.CORRAL_ADMIN_TOKEN !== undefined && env.CORRAL_ADMIN_TOKEN !== ''
  const token = value.token ?? (fromEnv ? env.CORRAL_ADMIN_TOKEN : undefined)
  const tokenName = fromEnv ? 'CORRAL_ADMIN_TOKEN' : 'admin.token'
  if (token !== undefined && (typeof token !== 'string' || token.length < MIN_TOKEN || /\s/.test(token))) {
    check.fail(tokenName, `a secret of at least ${MIN_TOKEN} characters without spaces`, token, typeof token === 'string' ? `${token.length} characters (not shown)` : typeof token)
  }
  if (token === undefined && !isLoopback(adminHost)) {
    check.fail('admin.token', `set (or env CORRAL_ADMIN_TOKEN) when the admin server listens beyond loopback (admin.host ${JSON.stringify(adminHost)})`, undefined)
  }
  const allowedHosts = value.allowedHosts ?? []
  if (!Array.isArray(allowedHosts) || !allowedHosts.every((h) => typeof h === 'string' && h !== '')) fail('admin.allowedHosts', 'an array of host names', allowedHosts)
  return { port, host: adminHost, token, allowedHosts: allowedHosts.map((h) => h.toLowerCase()) }
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

function stickyOptions (value: BootOptions['sticky']): ResolvedStickyOptions {
  if (value === undefined) return { key: 'ip', trustProxy: 0 }
  if (value === null || typeof value !== 'object') fail('sticky', 'an object { key, trustProxy }', value)
  const key = value.key ?? 'ip'
  const cookie = typeof key === 'object' && key !== null ? (key as { cookie?: unknown }).cookie : undefined
  if (key !== 'ip' && key !== 'sid' && !(typeof cookie === 'string' && COOKIE_NAME.test(cookie))) fail('sticky.key', "'ip', 'sid' or { cookie: '<cookie name>' }", key)
  const trustProxy = value.trustProxy === true ? 1 : value.trustProxy === false ? 0 : integer('sticky.trustProxy', value.trustProxy, 0, 0, 32)
  return { key: typeof key === 'object' ? { cookie: cookie as string } : key, trustProxy }
}

function logsOptions (value: BootOptions['logs'], env: NodeJS.ProcessEnv): ResolvedLogsOptions | false {
  if (value === false) return false
  if (value === undefined) value = {}
  if (value === null || typeof value !== 'object') fail('logs', 'an object { dir?, maxSize?, maxFiles? } or false', value)
  for (const key of Object.keys(value)) if (!['dir', 'maxSize', 'maxFiles'].includes(key)) fail(`logs.${key}`, 'absent: logs takes dir, maxSize and maxFiles', (value as Record<string, unknown>)[key])
  if (value.dir !== undefined && (typeof value.dir !== 'string' || value.dir === '')) fail('logs.dir', 'a directory path', value.dir)
  return {
    dir: path.resolve(value.dir ?? defaultLogDir(env)),
    maxSize: value.maxSize === undefined ? 10 * 1024 ** 2 : parseBytes(value.maxSize, 'logs.maxSize'),
    maxFiles: integer('logs.maxFiles', value.maxFiles, 5, 1, 1000)
  }
}

/** Reads and checks every option once, with its default, so a bad value fails before anything forks. */
export function resolveOptions (opts: BootOptions, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  if (opts === null || typeof opts !== 'object') fail('options', 'an object', opts)
  if (typeof opts.app !== 'function') fail('app', 'a function that returns a Fastify instance', opts.app)

  const scheduling = check.oneOf<SchedulingOption>('scheduling', opts.scheduling, 'auto', ['auto', 'rr', 'none', 'reuseport', 'sticky'])
  const sticky = stickyOptions(opts.sticky)

  const logger = opts.logger ?? {}
  if (logger !== false && (logger === null || typeof logger !== 'object')) fail('logger', 'a pino logger, pino options or false', logger)

  const admin = adminOptions(opts.admin, env)
  if (opts.primary !== undefined && typeof opts.primary !== 'function') fail('primary', 'a function', opts.primary)
  if (opts.env !== undefined && (opts.env === null || typeof opts.env !== 'object')) fail('env', 'an object of strings', opts.env)

  const workersValue = opts.workers ?? env.WORKERS ?? 'max'
  const restartDelay = integer('restartDelay', opts.restartDelay, 100, 0)
  const statsInterval = integer('statsInterval', opts.statsInterval, 1000, 10)
  const hangTimeout = opts.hangTimeout === false ? 0 : integer('hangTimeout', opts.hangTimeout, Math.max(30_000, statsInterval * 3), 0)
  // a heartbeat comes every statsInterval: a shorter timeout would call every worker hung
  if (hangTimeout !== 0 && hangTimeout <= statsInterval) fail('hangTimeout', `0 or false (off), or more than statsInterval (${statsInterval} ms)`, opts.hangTimeout)

  return {
    app: opts.app,
    workers: parseWorkers(workersValue, opts.workers === undefined && env.WORKERS !== undefined ? 'WORKERS' : 'workers'),
    port: integer(opts.port === undefined && env.PORT !== undefined ? 'PORT' : 'port', opts.port ?? env.PORT, 3000, 0, 65535),
    host: host('host', opts.host ?? env.HOST, '127.0.0.1'),
    killTimeout: integer('killTimeout', opts.killTimeout, 10_000, 1),
    readyTimeout: integer('readyTimeout', opts.readyTimeout, 15_000, 1),
    maxRestarts: integer('maxRestarts', opts.maxRestarts, 10, 0),
    restartWindow: integer('restartWindow', opts.restartWindow, 60_000, 1),
    restartDelay,
    maxRestartDelay: integer('maxRestartDelay', opts.maxRestartDelay, Math.max(15_000, restartDelay), restartDelay),
    minUptime: integer('minUptime', opts.minUptime, 5000, 0),
    maxMemory: opts.maxMemory === undefined ? 0 : parseBytes(opts.maxMemory),
    scheduling,
    sticky,
    statsInterval,
    hangTimeout,
    idleCloseDelay: integer('idleCloseDelay', opts.idleCloseDelay, 1000, 0),
    logger,
    admin,
    primary: opts.primary,
    env: { ...opts.env },
    logs: logsOptions(opts.logs, env)
  }
}
