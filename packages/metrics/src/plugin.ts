import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Histogram } from 'prom-client'
import { workerContext } from '@corral/cluster-boot'
import { negotiate, render, type MetricJSON } from './exposition.js'
import { httpMetrics, type HttpTally } from './http-metrics.js'
import { metricFactory, type MetricsApi } from './metrics-api.js'
import { resolveMetricsOptions, type MetricsOptions } from './options.js'
import { processMetrics } from './process-metrics.js'
import { Pusher } from './push.js'
import { encodeMetrics, type WireSnapshot } from './snapshot.js'
import { InvalidOptionError } from './errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** @corral/metrics: the registry and helpers for custom metrics */
    metrics: MetricsApi
  }
}

/**
 * Metrics of one process. In a cluster-boot worker its snapshots go to the
 * primary, which serves them merged; anywhere else the app serves them
 * itself on `endpoint`.
 */
async function corralMetricsPlugin (fastify: FastifyInstance, options: MetricsOptions): Promise<void> {
  const opts = resolveMetricsOptions(options)
  const { registry } = opts
  const worker = workerContext()

  if (opts.defaultMetrics !== false) {
    const stalls = processMetrics(registry, opts.defaultMetrics)
    fastify.addHook('onClose', async () => { stalls.stop() })
  }
  const tally: HttpTally = opts.httpMetrics ? httpMetrics(fastify, registry, opts) : { requests: 0, errors: 0, inFlight: 0 }

  let seq = 0
  let warnedTruncated = false
  const snapshot = async (): Promise<WireSnapshot> => {
    const metrics = await registry.getMetricsAsJSON() as unknown as MetricJSON[]
    const { m, truncated } = encodeMetrics(metrics, opts.maxSeries)
    if (truncated > 0 && !warnedTruncated) {
      warnedTruncated = true
      fastify.log.warn({ maxSeries: opts.maxSeries, truncated }, 'metrics snapshot passes maxSeries: series left out (too many label values?)')
    }
    return { v: 1, seq: ++seq, at: Date.now(), requests: tally.requests, errors: tally.errors, inFlight: tally.inFlight, truncated, m }
  }

  let pusher: Pusher | undefined
  if (worker !== null) {
    if (options.primary !== false) {
      const primary = options.primary ?? {}
      if (primary === null || typeof primary !== 'object' || Array.isArray(primary)) throw new InvalidOptionError('primary', 'an object of aggregator options or false', JSON.stringify(primary))
      // the primary loads the aggregator before this worker counts as ready
      const served = await worker.usePrimary(new URL('./primary.js', import.meta.url), primary)
      if (!served) fastify.log.warn('@corral/metrics: the primary does not aggregate the workers\' metrics (its log says why): no /metrics on the admin server')
    }
    const pushSeconds = new Histogram({
      name: 'corral_metrics_push_duration_seconds',
      help: 'Time a periodic metrics push took in the worker: collecting, encoding and writing to the IPC channel.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry]
    })
    const onError = (err: unknown): void => { fastify.log.error({ err }, 'metrics push failed') }
    const active = new Pusher(worker, snapshot, onError, (s) => pushSeconds.observe(s))
    pusher = active
    // counted before the drain stops the listener, and again once the last requests are done
    worker.onDrain(async () => { await active.flush() })
    fastify.addHook('onClose', async () => { await active.close() })
    active.start(opts.pushInterval)
  } else if (opts.endpoint !== false) {
    fastify.get(opts.endpoint, async (request: FastifyRequest, reply: FastifyReply) => {
      const contentType = negotiate(request.headers.accept)
      const body = await render(await registry.getMetricsAsJSON() as unknown as MetricJSON[], contentType)
      return reply.header('content-type', contentType).send(body)
    })
  }

  const api: MetricsApi = {
    registry,
    clustered: worker !== null,
    ...metricFactory(registry),
    snapshot,
    push: async () => pusher === undefined ? false : pusher.flush()
  }
  fastify.decorate('metrics', api)
}

export const corralMetrics = fp(corralMetricsPlugin, { name: '@corral/metrics', fastify: '5.x' })
export default corralMetrics
