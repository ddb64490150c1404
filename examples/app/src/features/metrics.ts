import type { FastifyInstance } from 'fastify'

/** Worker side of the metrics feature of the example app (filled in by the @corral/metrics work). */
export async function metricsFeature (_app: FastifyInstance): Promise<void> {}

/** Primary side: plugins registered on the admin instance. */
export async function metricsPrimary (_admin: FastifyInstance): Promise<void> {}
