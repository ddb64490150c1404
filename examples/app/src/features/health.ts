import type { FastifyInstance } from 'fastify'

/** Worker side of the health feature of the example app (filled in by the @corral/health work). */
export async function healthFeature (_app: FastifyInstance): Promise<void> {}

/** Primary side: plugins registered on the admin instance. */
export async function healthPrimary (_admin: FastifyInstance): Promise<void> {}
