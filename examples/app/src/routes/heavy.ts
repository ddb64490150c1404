import type { FastifyInstance } from 'fastify'

const MAX_MS = 10_000

/** GET /heavy?ms=N blocks the event loop for N ms: the CPU-heavy route. */
export async function heavyRoutes (app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: { ms?: number } }>('/heavy', {
    schema: {
      querystring: {
        type: 'object',
        properties: { ms: { type: 'integer', minimum: 0, maximum: MAX_MS, default: 100 } }
      }
    }
  }, async (request) => {
    const ms = request.query.ms ?? 100
    const until = Date.now() + ms
    let spins = 0
    while (Date.now() < until) spins++
    return { pid: process.pid, blockedMs: ms, spins }
  })
}
