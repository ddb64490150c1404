import type { FastifyInstance } from 'fastify'
import type { ConnectionCounts } from './plugin.js'

/** The gauge @corral/metrics' `/workers` view and dashboard read a worker's open connections from. */
export const CONNECTIONS_METRIC = 'corral_realtime_connections'

interface LabelledGauge {
  set (labels: Record<string, string>, value: number): void
}

/** The part of @corral/metrics' `fastify.metrics` this package uses. */
interface MetricsLike {
  gauge (config: { name: string, help: string, labelNames: string[], aggregator: 'sum', collect (this: LabelledGauge): void }): unknown
}

/**
 * With @corral/metrics registered first: `corral_realtime_connections{transport}`,
 * read at each snapshot, summed across workers by the primary.
 */
export function registerGauge (fastify: FastifyInstance, connections: () => ConnectionCounts): void {
  const metrics = (fastify as FastifyInstance & { metrics?: MetricsLike }).metrics
  if (metrics === undefined || typeof metrics.gauge !== 'function') return
  metrics.gauge({
    name: CONNECTIONS_METRIC,
    help: 'Open real-time connections on this worker, by transport (websocket, socketio).',
    labelNames: ['transport'],
    aggregator: 'sum',
    collect () {
      const counts = connections()
      this.set({ transport: 'websocket' }, counts.websocket)
      this.set({ transport: 'socketio' }, counts.socketio)
    }
  })
}
