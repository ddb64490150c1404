import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
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
  observe: (seconds: number) => void
}

const LABEL_NAMES = ['method', 'route', 'status_code'] as const

/**
 * RED metrics: http_requests_total, http_request_duration_seconds and
 * http_requests_in_flight, labelled by method, route pattern (never the raw
 * URL) and status code. The hot path is two hooks and a few map lookups: the
 * series for a (route, method, status) is built once, the request count is a
 * plain number the counter reads when collected, and the duration is the one
 * Fastify already measures (reply.elapsedTime).
 */
export function httpMetrics (app: FastifyInstance, registry: Registry, opts: ResolvedMetricsOptions): HttpTally {
  const tally: HttpTally = { requests: 0, errors: 0, inFlight: 0 }
  const byRoute = new Map<string, Map<string, Map<number, Series>>>()

  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method, route pattern and status code.',
    labelNames: LABEL_NAMES,
    buckets: opts.buckets,
    registers: [registry]
  })
  // eslint-disable-next-line no-new
  new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code.',
    labelNames: LABEL_NAMES,
    registers: [registry],
    collect () {
      this.reset()
      for (const methods of byRoute.values()) {
        for (const statuses of methods.values()) {
          for (const series of statuses.values()) this.inc(series.labels, series.count)
        }
      }
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
      series = { labels, count: 0, observe: (seconds) => duration.observe(labels, seconds) }
      statuses.set(status, series)
    }
    return series
  }

  const { excludeRoutes, excludeWhen, unmatchedRoute } = opts
  app.addHook('onRequest', (_request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    tally.inFlight++
    done()
  })
  // a request the client gave up on gets no onResponse
  app.addHook('onRequestAbort', (_request: FastifyRequest, done: () => void) => {
    tally.inFlight--
    done()
  })
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    tally.inFlight--
    const route = request.routeOptions.url ?? unmatchedRoute
    if (excludeRoutes.has(route) || (excludeWhen !== undefined && excludeWhen(request))) return done()
    const status = reply.statusCode
    const series = seriesFor(request.method, route, status)
    series.count++
    series.observe(reply.elapsedTime / 1000)
    tally.requests++
    if (status >= 500) tally.errors++
    done()
  })
  return tally
}
