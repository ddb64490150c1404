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
  method: string
  status: number
  count: number
  /** seconds, the histogram's sum */
  sum: number
  /** per-bound counts, not cumulative: the bound is the first one >= the value */
  buckets: Float64Array
}

/** One route pattern's series, by method and status, and whether it is measured at all. */
interface RouteEntry {
  excluded: boolean
  byMethod: Map<string, Map<number, Series>>
  /** the series the route's last request went to: the next one most often has the same method and status */
  last: Series | undefined
}

const LABEL_NAMES = ['method', 'route', 'status_code'] as const

/** Where the request sits among those in flight. */
const kSlot = Symbol('corral.metrics.slot')
type Slotted = FastifyRequest & { [kSlot]: number }

/**
 * RED metrics: http_requests_total, http_request_duration_seconds and
 * http_requests_in_flight, labelled by method, route pattern (never the raw
 * URL) and status code. The hot path is two hooks and one map lookup per
 * request: the series for a (route, method, status) is built once and the
 * route remembers the last one it used, the request count and
 * the duration's buckets are plain numbers read when collected, and the
 * duration is the one Fastify already measures (reply.elapsedTime).
 */
export function httpMetrics (app: FastifyInstance, registry: Registry, opts: ResolvedMetricsOptions): HttpTally {
  const tally: HttpTally = { requests: 0, errors: 0, inFlight: 0 }
  const byRoute = new Map<string, RouteEntry>()

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
    for (const entry of byRoute.values()) {
      for (const statuses of entry.byMethod.values()) yield * statuses.values()
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

  const { excludeRoutes, excludeWhen, unmatchedRoute } = opts
  const entryFor = (route: string): RouteEntry => {
    let entry = byRoute.get(route)
    if (entry === undefined) byRoute.set(route, entry = { excluded: excludeRoutes.has(route), byMethod: new Map(), last: undefined })
    return entry
  }
  const seriesFor = (entry: RouteEntry, method: string, route: string, status: number): Series => {
    let statuses = entry.byMethod.get(method)
    if (statuses === undefined) entry.byMethod.set(method, statuses = new Map())
    let series = statuses.get(status)
    if (series === undefined) {
      const labels = { method, route, status_code: String(status) }
      series = { labels, method, status, count: 0, sum: 0, buckets: new Float64Array(bounds.length) }
      statuses.set(status, series)
    }
    return series
  }

  // Requests received and not answered. A request the client gave up on gets
  // no onResponse; rather than an onRequestAbort hook (Fastify then puts a
  // 'close' listener on every request, the dearest of the hooks in a side by
  // side test), the count drops requests whose socket is gone when it is read.
  // They sit in an array of slots, the slot kept on the request: a Set of
  // requests cost ~220 ns an add and delete (its table is rebuilt as entries
  // come and go), a slot ~10 ns.
  const slots: Array<FastifyRequest | undefined> = []
  const freeSlots: number[] = []
  let open = 0
  app.decorateRequest(kSlot, -1)
  const release = (slot: number): void => {
    slots[slot] = undefined
    freeSlots.push(slot)
    open--
  }
  const prune = (): number => {
    for (let slot = 0; slot < slots.length; slot++) {
      if (slots[slot]?.socket?.destroyed === true) release(slot)
    }
    return open
  }
  Object.defineProperty(tally, 'inFlight', { enumerable: true, get: prune })
  // nobody may read the count (no scrape, no push): abandoned requests must not pile up meanwhile
  let pruneAt = 1024
  app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    const slot = freeSlots.length > 0 ? freeSlots.pop() as number : slots.length
    slots[slot] = request
    ;(request as Slotted)[kSlot] = slot
    if (++open >= pruneAt) pruneAt = Math.max(1024, 2 * prune())
    done()
  })
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    // not there if an earlier onRequest hook answered, or once pruned (the slot may be another's by now)
    const slot = (request as Slotted)[kSlot]
    if (slot >= 0 && slots[slot] === request) release(slot)
    const route = request.routeOptions.url ?? unmatchedRoute
    const entry = entryFor(route)
    if (entry.excluded || (excludeWhen !== undefined && excludeWhen(request))) return done()
    const status = reply.statusCode
    const method = request.method
    let series = entry.last
    if (series === undefined || series.status !== status || series.method !== method) {
      entry.last = series = seriesFor(entry, method, route, status)
    }
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
