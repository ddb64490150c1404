import { isLoopback } from '@corral/cluster-boot'
import type { FastifyRequest } from 'fastify'
import type { HealthAggregatorOptions } from './aggregator-plugin.js'
import type { CheckDefinition, CheckFn } from './check.js'
import { InvalidOptionError } from './errors.js'

export interface HealthOptions {
  /** checks by name: a function, or `{ check, critical, timeout, measurement }` */
  checks?: Record<string, CheckFn | CheckDefinition>
  /** prefix of the routes (default '/health') */
  prefix?: string
  /** paths under the prefix (defaults '/live', '/ready', '' for the details) */
  paths?: { live?: string, ready?: string, details?: string }
  /** ms a check may take before it counts as failed (default 1000) */
  timeout?: number
  /** ms results are reused; concurrent probes share one run (default 1000) */
  cacheMs?: number
  /** ms the listener keeps accepting after readiness turns 503 at shutdown (default 0; a few seconds on Kubernetes) */
  shutdownDelay?: number
  /** seconds in the Retry-After of a 503 (default 5) */
  retryAfter?: number
  /** who may see check outputs and observed values (default: loopback callers on the socket itself, with no proxy headers, naming a loopback Host) */
  exposeDetails?: (request: FastifyRequest) => boolean
  /** log probe requests like any other (default false: a probe every second would drown the log) */
  logProbes?: boolean
  /** ms between readiness reports to the cluster-boot primary (default 2000) */
  reportInterval?: number
  /** in a cluster-boot worker: options of the primary side (the machine's `/health` on the admin server), which the primary loads when a worker asks; false: do not ask (default {}) */
  primary?: HealthAggregatorOptions | false
}

export interface ResolvedOptions {
  checks: Array<[string, CheckDefinition]>
  paths: { live: string, ready: string, details: string }
  timeout: number
  cacheMs: number
  shutdownDelay: number
  retryAfter: number
  exposeDetails: (request: FastifyRequest) => boolean
  logProbes: boolean
  reportInterval: number
}

// set by a proxy in front: the socket's loopback address is then the proxy's, not the caller's
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'x-forwarded-host', 'x-client-ip', 'true-client-ip', 'cf-connecting-ip']

/** The name in a Host header, without its port: `[::1]:3000` → `::1`. */
function hostName (host: string | undefined): string {
  const value = (host ?? '').trim()
  const bracketed = /^\[([^\]]*)\]/.exec(value)
  if (bracketed !== null) return bracketed[1]
  return value.replace(/:\d*$/, '')
}

/**
 * The default `exposeDetails`: a caller on this host, talking to the socket
 * directly. Read from the socket, never `request.ip`, which under
 * `trustProxy` is whatever X-Forwarded-For says. A same-host proxy adds no
 * header unless told to (nginx's proxy_pass does not), so the Host must name
 * a loopback address too: a proxy passes the public name on.
 */
export function localCaller (request: FastifyRequest): boolean {
  if (!isLoopback(request.socket.remoteAddress ?? '')) return false
  if (!PROXY_HEADERS.every((name) => request.headers[name] === undefined)) return false
  return isLoopback(hostName(request.headers.host))
}

function fail (name: string, message: string): never {
  throw new InvalidOptionError(name, message)
}

function duration (name: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) fail(name, `expected a number >= ${min}, got ${JSON.stringify(value)}`)
  return value
}

function path (name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || (value !== '' && !value.startsWith('/')) || /[\s?#]/.test(value)) fail(name, `expected '' or a path starting with '/', got ${JSON.stringify(value)}`)
  return value
}

/** Checks a check definition; `name` names it in errors. */
export function checkDefinition (name: string, value: unknown): CheckDefinition {
  const definition = typeof value === 'function' ? { check: value as CheckFn } : value as CheckDefinition
  if (definition === null || typeof definition !== 'object' || typeof definition.check !== 'function') {
    fail(name, 'expected an async function, or { check, critical?, timeout? }')
  }
  if (definition.critical !== undefined && typeof definition.critical !== 'boolean') fail(`${name}.critical`, 'expected a boolean')
  if (definition.timeout !== undefined) duration(`${name}.timeout`, definition.timeout, 0, 1)
  if (definition.measurement !== undefined && (typeof definition.measurement !== 'string' || definition.measurement === '')) fail(`${name}.measurement`, 'expected a non-empty string')
  return definition
}

export function checkName (name: unknown): string {
  if (typeof name !== 'string' || !/^[\w.-]{1,64}$/.test(name)) fail('checks', `a check name is 1-64 letters, digits, '_', '.' or '-', got ${JSON.stringify(name)}`)
  return name
}

export function resolveOptions (options: HealthOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object') fail('options', 'expected an object')
  const checks = options.checks ?? {}
  if (checks === null || typeof checks !== 'object' || Array.isArray(checks)) fail('checks', 'expected an object of name: check')
  const prefix = path('prefix', options.prefix, '/health')
  const paths = options.paths ?? {}
  if (paths === null || typeof paths !== 'object') fail('paths', 'expected an object')
  if (options.exposeDetails !== undefined && typeof options.exposeDetails !== 'function') fail('exposeDetails', 'expected a function (request) => boolean')
  if (options.logProbes !== undefined && typeof options.logProbes !== 'boolean') fail('logProbes', 'expected a boolean')
  const resolved: ResolvedOptions = {
    checks: Object.entries(checks).map(([name, value]) => [checkName(name), checkDefinition(`checks.${name}`, value)]),
    paths: {
      live: prefix + path('paths.live', paths.live, '/live'),
      ready: prefix + path('paths.ready', paths.ready, '/ready'),
      details: prefix + path('paths.details', paths.details, '')
    },
    timeout: duration('timeout', options.timeout, 1000, 1),
    cacheMs: duration('cacheMs', options.cacheMs, 1000),
    shutdownDelay: duration('shutdownDelay', options.shutdownDelay, 0),
    retryAfter: duration('retryAfter', options.retryAfter, 5, 1),
    exposeDetails: options.exposeDetails ?? localCaller,
    logProbes: options.logProbes ?? false,
    reportInterval: duration('reportInterval', options.reportInterval, 2000, 10)
  }
  const all = Object.values(resolved.paths)
  if (new Set(all).size !== all.length) fail('paths', 'live, ready and details must differ')
  for (const p of all) if (p === '') fail('paths', 'with an empty prefix, every path needs one')
  return resolved
}
