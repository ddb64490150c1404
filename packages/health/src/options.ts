import { isLoopback } from '@corral/cluster-boot'
import type { FastifyRequest } from 'fastify'
import type { CheckDefinition, CheckFn } from './check.js'
import { optionChecks, type OptionChecks } from '@corral/cluster-boot/options'
import { InvalidOptionError } from './errors.js'

export interface HealthOptions {
  /** checks by name: a function, or `{ check, critical, timeout, measurement }` */
  checks?: Record<string, CheckFn | CheckDefinition>
  /** path the routes start with (default '/health'); `paths` follow it */
  routePrefix?: string
  /** @deprecated the old name of `routePrefix`: Fastify reserves `prefix` for the register option that prefixes a plugin's routes */
  prefix?: string
  /** paths under the prefix (defaults '/live', '/ready', '' for the details) */
  paths?: { live?: string, ready?: string, details?: string }
  /** ms a check may take before it counts as failed (default 1000) */
  timeout?: number
  /** ms between two runs of the checks: probes in between get the last result, concurrent probes share one run (default 1000) */
  checkInterval?: number
  /** @deprecated the old name of `checkInterval` */
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
  checkInterval: number
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
  // remoteAddress is undefined only on a socket already destroyed, which no handler runs for
  /* c8 ignore next */
  if (!isLoopback(request.socket.remoteAddress ?? '')) return false
  if (!PROXY_HEADERS.every((name) => request.headers[name] === undefined)) return false
  return isLoopback(hostName(request.headers.host))
}

/** Seconds in the Retry-After of a 503, in the workers' routes and the primary's (default 5). */
export const DEFAULT_RETRY_AFTER = 5

const check: OptionChecks = optionChecks(InvalidOptionError, '@corral/health')

function duration (name: string, value: unknown, fallback: number, min = 0): number {
  return check.number(name, value, fallback, min)
}

function path (name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || (value !== '' && !value.startsWith('/')) || /[\s?#]/.test(value)) check.fail(name, "'' or a path starting with '/' (no spaces, '?' or '#')", value)
  return value
}

/** Checks a check definition; `name` names it in errors. */
export function checkDefinition (name: string, value: unknown): CheckDefinition {
  const definition = typeof value === 'function' ? { check: value as CheckFn } : value as CheckDefinition
  if (definition === null || typeof definition !== 'object' || typeof definition.check !== 'function') {
    check.fail(name, 'an async function, or { check, critical?, timeout?, measurement? }', value)
  }
  check.boolean(`${name}.critical`, definition.critical, true)
  duration(`${name}.timeout`, definition.timeout, 0, 1)
  check.text(`${name}.measurement`, definition.measurement, '-')
  return definition
}

export function checkName (name: unknown): string {
  if (typeof name !== 'string' || !/^[\w.-]{1,64}$/.test(name)) check.fail('checks', "keyed by names of 1-64 letters, digits, '_', '.' or '-'", name)
  return name
}

export function resolveOptions (options: HealthOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object') check.fail('options', 'an object', options)
  const checks = check.object('checks', options.checks, 'an object of name: check')
  const prefix = path('routePrefix', check.renamed(options, 'prefix', 'routePrefix'), '/health')
  const paths = check.object('paths', options.paths, 'an object { live?, ready?, details? }')
  const resolved: ResolvedOptions = {
    checks: Object.entries(checks).map(([name, value]) => [checkName(name), checkDefinition(`checks.${name}`, value)]),
    paths: {
      live: prefix + path('paths.live', paths.live, '/live'),
      ready: prefix + path('paths.ready', paths.ready, '/ready'),
      details: prefix + path('paths.details', paths.details, '')
    },
    timeout: duration('timeout', options.timeout, 1000, 1),
    checkInterval: duration('checkInterval', check.renamed(options, 'cacheMs', 'checkInterval'), 1000),
    shutdownDelay: duration('shutdownDelay', options.shutdownDelay, 0),
    retryAfter: check.integer('retryAfter', options.retryAfter, DEFAULT_RETRY_AFTER, { min: 1 }),
    exposeDetails: check.optionalFunction('exposeDetails', options.exposeDetails, 'a function (request) => boolean') ?? localCaller,
    logProbes: check.boolean('logProbes', options.logProbes, false),
    reportInterval: duration('reportInterval', options.reportInterval, 2000, 10)
  }
  const all = Object.values(resolved.paths)
  if (new Set(all).size !== all.length) check.fail('paths', 'three different paths for live, ready and details', resolved.paths)
  for (const p of all) if (p === '') check.fail('paths', 'non-empty when routePrefix is empty', resolved.paths)
  return resolved
}

/** Options of `healthAggregator`, on cluster-boot's admin instance. */
export interface HealthAggregatorOptions {
  /** path on the admin server (default '/health') */
  path?: string
  /** ms after which a worker's last report is stale and counts as not ready (default 10000) */
  staleAfter?: number
  /** seconds in the Retry-After of a 503 (default 5, as the workers' routes) */
  retryAfter?: number
}

export interface ResolvedAggregatorOptions {
  path: string
  staleAfter: number
  retryAfter: number
}

/** Reads and checks `healthAggregator`'s options once, with their defaults. */
export function resolveAggregatorOptions (options: HealthAggregatorOptions = {}): ResolvedAggregatorOptions {
  const o = check.object('options', options) as HealthAggregatorOptions
  const p = path('path', o.path, '/health')
  if (p === '') check.fail('path', "a path starting with '/'", p)
  return {
    path: p,
    staleAfter: check.positive('staleAfter', o.staleAfter, 10_000),
    retryAfter: check.integer('retryAfter', o.retryAfter, DEFAULT_RETRY_AFTER, { min: 1 })
  }
}
