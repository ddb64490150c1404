import type { FastifyRequest } from 'fastify'
import { Registry } from 'prom-client'
import { optionChecks, type OptionChecks } from '@corral/cluster-boot/options'
import { InvalidOptionError } from './errors.js'

/** prom-client's default metric options we pass through. */
export interface DefaultMetricsOptions {
  /** prefix of every default metric name (default '') */
  prefix?: string
  /** buckets of nodejs_gc_duration_seconds, in seconds */
  gcDurationBuckets?: number[]
  /** resolution of the event-loop delay sampler, in ms (default 10) */
  eventLoopMonitoringPrecision?: number
}

/** Options of the worker (and standalone) plugin. */
export interface MetricsOptions {
  /** ms between two snapshots pushed to the primary (default 1000) */
  pushInterval?: number
  /** @deprecated the old name of `pushInterval` */
  interval?: number
  /** route that serves the metrics when the app runs outside a cluster-boot worker; false for none (default '/metrics') */
  endpoint?: string | false
  /** prom-client's process metrics plus event-loop utilisation; false to leave them out (default true) */
  defaultMetrics?: boolean | DefaultMetricsOptions
  /** http_requests_total, http_request_duration_seconds and http_requests_in_flight (default true) */
  httpMetrics?: boolean
  /** route patterns not measured, or a predicate on the request (default: the metrics endpoint) */
  exclude?: string[] | ((request: FastifyRequest) => boolean)
  /** buckets of http_request_duration_seconds, in seconds (default 100 µs to 10 s, 16 buckets) */
  buckets?: number[]
  /** the `route` label of requests no route matched (default 'unmatched') */
  unmatchedRoute?: string
  /** the most series one snapshot carries; the rest are left out with a warning (default 10000) */
  maxSeries?: number
  /** a prom-client registry to use instead of a new one */
  registry?: Registry
  /** in a cluster-boot worker: options of the primary side (`/metrics`, `/workers`, `/dashboard` on the admin server), which the primary loads when a worker asks; false: do not ask (default {}) */
  primary?: AggregatorOptions | false
}

export interface ResolvedMetricsOptions {
  pushInterval: number
  endpoint: string | false
  defaultMetrics: DefaultMetricsOptions | false
  httpMetrics: boolean
  excludeRoutes: Set<string>
  excludeWhen: ((request: FastifyRequest) => boolean) | undefined
  buckets: number[]
  unmatchedRoute: string
  maxSeries: number
  registry: Registry
}

/** Options of the aggregator, registered on cluster-boot's admin instance in the primary. */
export interface AggregatorOptions {
  /** route of the merged metrics (default '/metrics') */
  endpoint?: string
  /** route of the per-worker JSON view; false for none (default '/workers') */
  workersEndpoint?: string | false
  /** route of the live dashboard page; false for none (default '/dashboard') */
  dashboard?: string | false
  /** the admin route of @corral/health's machine readiness, shown on the dashboard when it answers; false for none (default '/health') */
  health?: string | false
  /** a `worker` label (the slot) on every series instead of one sum across workers (default false) */
  perWorker?: boolean
  /** the primary's own process metrics, in the workers' families with the label worker="primary"; false to leave them out (default true) */
  primaryMetrics?: boolean
  /** the largest snapshot accepted from a worker, in series, and the most series one slot's dead workers leave behind (default 50000) */
  maxSeries?: number
  /** the largest snapshot accepted from a worker, in bytes of its names, help texts, label values and numbers (default 16 MiB) */
  maxBytes?: number
}

export interface ResolvedAggregatorOptions {
  endpoint: string
  workersEndpoint: string | false
  dashboard: string | false
  health: string | false
  perWorker: boolean
  primaryMetrics: boolean
  maxSeries: number
  maxBytes: number
}

/**
 * 100 µs to 10 s: a Fastify route answers in tens of µs, so prom-client's
 * defaults (from 5 ms) put every request of a fast service in the first
 * bucket and its quantiles say nothing; a slow upstream still fits under 10 s.
 */
export const DEFAULT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

const check: OptionChecks = optionChecks(InvalidOptionError, '@corral/metrics')

function fail (name: string, expected: string, value: unknown): never {
  return check.fail(name, expected, value)
}

function isObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function integer (name: string, value: unknown, fallback: number, min: number): number {
  return check.integer(name, value, fallback, { min })
}

function route (name: string, value: unknown, fallback: string, allowFalse: true): string | false
function route (name: string, value: unknown, fallback: string, allowFalse: false): string
function route (name: string, value: unknown, fallback: string, allowFalse: boolean): string | false {
  if (value === undefined) return fallback
  if (value === false && allowFalse) return false
  if (typeof value !== 'string' || !value.startsWith('/')) fail(name, `a path starting with "/"${allowFalse ? ' or false' : ''}`, value)
  return value
}

function buckets (name: string, value: unknown, fallback: number[]): number[] {
  if (value === undefined) return fallback
  const ok = Array.isArray(value) && value.length > 0 &&
    value.every((b, i) => typeof b === 'number' && Number.isFinite(b) && (i === 0 || b > value[i - 1]))
  if (!ok) fail(name, 'a non-empty array of finite numbers in increasing order', value)
  return [...value]
}

function defaultMetrics (value: unknown): DefaultMetricsOptions | false {
  if (value === undefined || value === true) return {}
  if (value === false) return false
  if (!isObject(value)) fail('defaultMetrics', 'true, false or { prefix, gcDurationBuckets, eventLoopMonitoringPrecision }', value)
  if (value.prefix !== undefined && (typeof value.prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/.test(value.prefix))) {
    fail('defaultMetrics.prefix', 'a valid metric name prefix', value.prefix)
  }
  return {
    prefix: value.prefix as string | undefined,
    gcDurationBuckets: value.gcDurationBuckets === undefined ? undefined : buckets('defaultMetrics.gcDurationBuckets', value.gcDurationBuckets, []),
    eventLoopMonitoringPrecision: integer('defaultMetrics.eventLoopMonitoringPrecision', value.eventLoopMonitoringPrecision, 10, 1)
  }
}

/** Reads and checks the plugin's options once, with their defaults. */
export function resolveMetricsOptions (opts: MetricsOptions): ResolvedMetricsOptions {
  // Fastify passes {} to a plugin registered without options
  if (!isObject(opts)) fail('options', 'an object', opts)

  const endpoint = route('endpoint', opts.endpoint, '/metrics', true)
  const excludeRoutes = new Set<string>()
  let excludeWhen: ((request: FastifyRequest) => boolean) | undefined
  if (typeof opts.exclude === 'function') {
    excludeWhen = opts.exclude as (request: FastifyRequest) => boolean
  } else if (opts.exclude !== undefined) {
    if (!Array.isArray(opts.exclude) || !opts.exclude.every((r) => typeof r === 'string')) {
      fail('exclude', 'an array of route patterns or a function (request) => boolean', opts.exclude)
    }
    for (const r of opts.exclude) excludeRoutes.add(r)
  }
  if (endpoint !== false) excludeRoutes.add(endpoint)

  const unmatchedRoute = check.text('unmatchedRoute', opts.unmatchedRoute, 'unmatched')
  if (opts.registry !== undefined && !(opts.registry instanceof Registry)) fail('registry', 'a prom-client Registry', opts.registry)

  return {
    pushInterval: integer('pushInterval', check.renamed(opts, 'interval', 'pushInterval'), 1000, 10),
    endpoint,
    defaultMetrics: defaultMetrics(opts.defaultMetrics),
    httpMetrics: check.boolean('httpMetrics', opts.httpMetrics, true),
    excludeRoutes,
    excludeWhen,
    buckets: buckets('buckets', opts.buckets, DEFAULT_BUCKETS),
    unmatchedRoute,
    maxSeries: integer('maxSeries', opts.maxSeries, 10_000, 1),
    registry: opts.registry ?? new Registry()
  }
}

/** Reads and checks the aggregator's options once, with their defaults. */
export function resolveAggregatorOptions (opts: AggregatorOptions): ResolvedAggregatorOptions {
  if (!isObject(opts)) fail('options', 'an object', opts)
  const workersEndpoint = route('workersEndpoint', opts.workersEndpoint, '/workers', true)
  const dashboard = route('dashboard', opts.dashboard, '/dashboard', true)
  // the page draws what the JSON view says
  if (dashboard !== false && workersEndpoint === false) fail('dashboard', 'false when workersEndpoint is false', dashboard)
  return {
    endpoint: route('endpoint', opts.endpoint, '/metrics', false),
    workersEndpoint,
    dashboard,
    health: route('health', opts.health, '/health', true),
    perWorker: check.boolean('perWorker', opts.perWorker, false),
    primaryMetrics: check.boolean('primaryMetrics', opts.primaryMetrics, true),
    maxSeries: integer('maxSeries', opts.maxSeries, 50_000, 1),
    maxBytes: integer('maxBytes', opts.maxBytes, 16 * 1024 * 1024, 1024)
  }
}
