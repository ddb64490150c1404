import type { FastifyInstance } from 'fastify'
import corralMetrics from '@corral/metrics'

/**
 * Per-worker metrics (process, HTTP), pushed to the primary every second; the
 * primary loads its side by itself: GET /metrics (all workers merged),
 * /workers and /dashboard on the admin server.
 */
export async function metricsFeature (app: FastifyInstance): Promise<void> {
  await app.register(corralMetrics)
}
