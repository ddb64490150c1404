import type { FastifyInstance } from 'fastify'
import corralMetrics, { metricsAggregator } from '@corral/metrics'

/** Per-worker metrics (process, HTTP), pushed to the primary every second. */
export async function metricsFeature (app: FastifyInstance): Promise<void> {
  await app.register(corralMetrics)
}

/** Primary side: GET /metrics (all workers merged), /workers and /dashboard on the admin server. */
export async function metricsPrimary (admin: FastifyInstance): Promise<void> {
  await admin.register(metricsAggregator)
}
