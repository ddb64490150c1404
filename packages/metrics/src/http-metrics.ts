import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Counter, Gauge, type Metric, type Registry } from 'prom-client'
import type { ResolvedMetricsOptions } from './options.js'

/** Plain tallies the worker also reports to the primary's /workers view. */
export interface HttpTally {
  requests: number
  /** answered with a 5xx */
  errors: number
  inFlight: number
}

type Labels = { method: string, route: string, status_code: string }

interface Series {
  labels: Labels
  count: number
  /** seconds, the histogram's sum */
  sum: number
  /** per-bound counts, not cumulative: the bound is the first one >= the value */
  buckets: Float64Array
}

const LABEL_NAMES = ['method', 'route', 'status_code'] as const

/**
 * RED metrics: http_requests_total, http_request_duration_seconds and
 * http_requests_in_flight, labelled by method, route pattern (never the raw
 * URL) and status code. The hot path is two hooks and a few map lookups: the
 * series for a (route, method, status) is built once, the request count and
 * the duration's buckets are plain numbers read when collected, and the
 * duration is the one Fastify already measures (reply.elapsedTime).
 */
export function httpMetrics (app: FastifyInstance, registry: Registry, opts: ResolvedMetricsOptions): HttpTally {
  const tally: HttpTally = { requests: 0, errors: 0, inFlight: 0 }
  const byRoute = new Map<string, Map<string, Map<number, Series>>>()

  // A histogram of our own, in prom-client's shape: its observe() costs about
  // 1.2 µs (label validation and hashing) on every request; this is an
  // addition and a short scan. Registered like any metric, so the text
  // format, OpenMetrics, JSON and the snapshots are prom-client's.
  const bounds = opts.buckets
  const durationName = 'http_request_duration_seconds'
  const duration = {
    name: durationName,
    help: 'Time to answer HTTP requests, by method, route pattern and status code.',
    type: 'histogram',
    aggregator: 'sum',
    labelNames: LABEL_NAMES,
    async get () {
      const values: Array<{ labels: Record<string, string | number>, value: number, metricName: string }> = []
      for (const series of allSeries()) {
        let cumulative = 0
        for (let i = 0; i < bounds.length; i++) {
          cumulative += series.buckets[i]
          values.push({ labels: { le: bounds[i], ...series.labels }, value: cumulative, metricName: `${durationName}_bucket` })
        }
        values.push({ labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: `${durationName}_bucket` })
        values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${durationName}_sum` })
        values.push({ labels: { ...series.labels }, value: series.count, metricName: `${durationName}_count` })
      }
      return { name: durationName, help: duration.help, type: 'histogram', aggregator: 'sum', values }
    },
    // like http_requests_total, rebuilt from the tallies at every collection: counts only grow
    reset () {}
  }
  registry.registerMetric(duration as unknown as Metric)
  function * allSeries (): Generator<Series> {
    for (const methods of byRoute.values()) {
      for (const statuses of methods.values()) yield * statuses.values()
    }
  }

  // eslint-disable-next-line no-new
  new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code.',
    labelNames: LABEL_NAMES,
    registers: [registry],
    collect () {
      this.reset()
      for (const series of allSeries()) this.inc(series.labels, series.count)
    }
  })
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'http_requests_in_flight',
    help: 'HTTP requests received and not answered yet.',
    registers: [registry],
    collect () { this.set(tally.inFlight) }
  })

  const seriesFor = (method: string, route: string, status: number): Series => {
    let methods = byRoute.get(route)
    if (methods === undefined) byRoute.set(route, methods = new Map())
    let statuses = methods.get(method)
    if (statuses === undefined) methods.set(method, statuses = new Map())
    let series = statuses.get(status)
    if (series === undefined) {
      const labels = { method, route, status_code: String(status) }
      series = { labels, count: 0, sum: 0, buckets: new Float64Array(bounds.length) }
      statuses.set(status, series)
    }
    return series
  }

  const { excludeRoutes, excludeWhen, unmatchedRoute } = opts
  // Requests received and not answered. A request the client gave up on gets
  // no onResponse; rather than an onRequestAbort hook (Fastify then puts a
  // 'close' listener on every request, the dearest of the hooks in a side by
  // side test), the count drops requests whose socket is gone when it is read.
  const open = new Set<FastifyRequest>()
  const prune = (): number => {
    for (const request of open) if (request.socket?.destroyed === true) open.delete(request)
    return open.size
  }
  Object.defineProperty(tally, 'inFlight', { enumerable: true, get: prune })
  // nobody may read the count (no scrape, no push): abandoned requests must not pile up meanwhile
  let pruneAt = 1024
  app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    open.add(request)
    if (open.size >= pruneAt) pruneAt = Math.max(1024, 2 * prune())
    done()
  })
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    open.delete(request)
    const route = request.routeOptions.url ?? unmatchedRoute
    if (excludeRoutes.has(route) || (excludeWhen !== undefined && excludeWhen(request))) return done()
    const status = reply.statusCode
    const series = seriesFor(request.method, route, status)
    const seconds = reply.elapsedTime / 1000
    series.count++
    series.sum += seconds
    let bound = 0
    while (bound < bounds.length && seconds > bounds[bound]) bound++
    if (bound < bounds.length) series.buckets[bound]++
    tally.requests++
    if (status >= 500) tally.errors++
    done()
  })
  return tally
}
