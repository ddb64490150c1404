import type { FastifyInstance } from 'fastify'

/** Worker side of the sessions feature of the example app (filled in by the @corral/sessions work). */
export async function sessionsFeature (_app: FastifyInstance): Promise<void> {}

/** Primary side: plugins registered on the admin instance. */
export async function sessionsPrimary (_admin: FastifyInstance): Promise<void> {}
