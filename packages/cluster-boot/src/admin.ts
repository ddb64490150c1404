import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Supervisor } from './supervisor.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** the cluster-boot supervisor (only on the primary's admin instance) */
    supervisor: Supervisor
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/**
 * The primary's admin HTTP instance. Other packages register their primary
 * side on it (metrics aggregator, health view, session host); it only
 * listens when an admin port is configured.
 */
export function createAdmin (supervisor: Supervisor, log: Logger): FastifyInstance {
  const admin: FastifyInstance = Fastify({
    // request lines at info would drown the log in scrapes and probes
    loggerInstance: log.child({ component: 'admin' }, { level: 'warn' }) as FastifyBaseLogger
  })
  admin.decorate('supervisor', supervisor)

  admin.get('/supervisor', async () => supervisor.state())

  admin.post('/reload', async (_request, reply) => {
    if (supervisor.stopping) return reply.code(409).send({ ok: false, error: 'stopping' })
    const result = await supervisor.reload()
    return reply.code(result.ok ? 200 : 500).send(result)
  })
  return admin
}

export function isLoopback (host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.')
}
