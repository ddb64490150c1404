import type { WorkerInfo } from '@corral/cluster-boot'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Registry } from 'prom-client'
import { MetricsAggregator, type DropReason, type WorkerRef } from './metrics-aggregator.js'
import { dashboardPage } from './dashboard.js'
import { negotiate, render, type ContentType, type MetricJSON } from './exposition.js'
import { resolveAggregatorOptions, type AggregatorOptions } from './options.js'
import { processMetrics } from './process-metrics.js'
import { NAMESPACE } from './snapshot.js'
import { supervisorMetrics } from './supervisor-metrics.js'
import { aggregatorMetrics } from './aggregator-metrics.js'
import { embeddedStoreMetrics } from './embedded-store-metrics.js'
import { workersView, type WorkersView } from './workers-view.js'
import { History, type HistoryView } from './history.js'

/** `admin.metricsAggregator`: the merged view, for routes of your own. */
export interface MetricsAggregatorApi {
  /** the primary's own registry (its process and supervisor metrics): add primary-side metrics here */
  readonly registry: Registry
  /** the merged metrics in the exposition format of `contentType` (default Prometheus text) */
  metrics (contentType?: ContentType): Promise<string>
  /** what GET /workers answers */
  workers (): WorkersView
  /** what GET /workers/history answers: the dashboard's samples and markers after `since` (ms since the epoch) */
  history (since?: number): HistoryView
}

declare module 'fastify' {
  interface FastifyInstance {
    /** @corral/metrics, in the primary: workers' metrics merged (on the admin instance with metricsAggregator only, undefined elsewhere) */
    metricsAggregator?: MetricsAggregatorApi
  }
}

/**
 * The workers' metrics and the primary's own in one list: a family both have
 * (process_resident_memory_bytes: the workers' with worker="0", "1"...,
 * the primary's with worker="primary") is one family, so standard Node.js
 * dashboards read both; otherwise the primary's own metric wins a name clash.
 */
function withPrimary (merged: MetricJSON[], own: MetricJSON[]): MetricJSON[] {
  const byName = new Map(own.map((m) => [m.name, m]))
  const out: MetricJSON[] = []
  for (const m of merged) {
    const mine = byName.get(m.name)
    if (mine === undefined) out.push(m)
    else if (mine.type === m.type) {
      byName.delete(m.name)
      out.push({ ...mine, values: [...m.values, ...mine.values] })
    }
  }
  return [...out, ...byName.values()]
}

/**
 * The primary's side: keeps the latest snapshot each worker pushes and
 * answers scrapes from them, so a scrape never waits on a worker. The primary
 * loads it on cluster-boot's admin instance (`@corral/metrics/primary`) when a
 * worker registers the metrics plugin; `boot({ primary })` may register it by hand.
 */
async function metricsAggregatorPlugin (admin: FastifyInstance, options: AggregatorOptions): Promise<void> {
  const opts = resolveAggregatorOptions(options)
  const supervisor = admin.supervisor
  // fastify-plugin refuses an instance without it (decorators, below): this only narrows the type
  /* c8 ignore next */
  if (supervisor === undefined) throw new TypeError('@corral/metrics: fastify.supervisor is missing')

  const warned = new WeakSet<WorkerRef>()
  const aggregator = new MetricsAggregator({
    perWorker: opts.perWorker,
    maxSeries: opts.maxSeries,
    maxBytes: opts.maxBytes,
    onDrop: (reason: DropReason, worker: WorkerRef, detail: string) => {
      // once per worker: a broken sender would otherwise log every interval
      if (reason === 'stale' || warned.has(worker)) return
      warned.add(worker)
      admin.log.warn({ slot: worker.slot, pid: worker.pid, reason, detail }, 'metrics snapshot dropped')
    }
  })
  const unsubscribe = supervisor.bus.on(NAMESPACE, (data, from) => aggregator.receive(data, from))
  const onExit = (record: WorkerInfo): void => aggregator.exited(record)
  supervisor.on('exit', onExit)
  admin.addHook('onClose', async () => {
    unsubscribe()
    supervisor.off('exit', onExit)
  })

  const registry = new Registry()
  if (opts.primaryMetrics) {
    const stalls = processMetrics(registry, {}, { worker: 'primary' })
    admin.addHook('onClose', async () => { stalls.stop() })
  }
  supervisorMetrics(registry, supervisor, aggregator)
  aggregatorMetrics(registry, supervisor, aggregator)
  embeddedStoreMetrics(registry, admin)

  const metrics = async (contentType: ContentType = Registry.PROMETHEUS_CONTENT_TYPE): Promise<string> => {
    const own = await registry.getMetricsAsJSON() as unknown as MetricJSON[]
    const body = await render(withPrimary(aggregator.metrics(), own), contentType)
    aggregator.scraped()
    return body
  }
  // one point a second for 15 minutes
  const history = new History(supervisor, aggregator, { step: 1000, capacity: 900 })
  admin.addHook('onClose', async () => { history.close() })
  const api: MetricsAggregatorApi = {
    registry,
    metrics,
    workers: () => workersView(supervisor, aggregator),
    history: (since) => history.view(since)
  }
  admin.decorate('metricsAggregator', api)

  admin.get(opts.endpoint, async (request: FastifyRequest, reply: FastifyReply) => {
    const contentType = negotiate(request.headers.accept)
    return reply.header('content-type', contentType).send(await metrics(contentType))
  })
  if (opts.workersEndpoint !== false) {
    admin.get(opts.workersEndpoint, async () => api.workers())
    admin.get(`${opts.workersEndpoint.replace(/\/$/, '')}/history`, async (request: FastifyRequest<{ Querystring: { since?: string } }>) => {
      const since = Number(request.query.since)
      return api.history(Number.isFinite(since) ? since : 0)
    })
  }
  if (opts.dashboard !== false && opts.workersEndpoint !== false) {
    const page = dashboardPage(opts.workersEndpoint, `${opts.workersEndpoint.replace(/\/$/, '')}/history`, opts.endpoint, opts.health)
    admin.get(opts.dashboard, async (_request, reply) => reply.type('text/html; charset=utf-8').send(page))
  }
}

export const metricsAggregator = fp(metricsAggregatorPlugin, {
  name: '@corral/metrics-aggregator',
  fastify: '5.x',
  // cluster-boot's admin instance, and only it, has the supervisor
  decorators: { fastify: ['supervisor'] }
})
export default metricsAggregator
