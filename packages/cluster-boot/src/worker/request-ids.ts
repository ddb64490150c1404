import type { FastifyInstance } from 'fastify'

const MAX_INT = 2147483647
const FASTIFY_DEFAULT = /^req-[0-9a-z]+$/

type Logging = { bindings?: () => Record<string, unknown>, setBindings?: (bindings: Record<string, unknown>) => void }

/**
 * Request ids unique across the cluster: `w<slot>-<worker id>-<n>`, where
 * Fastify's own `req-<n>` repeats in every worker (and the worker id in
 * every respawn of a slot). Only over Fastify's default: an app's own
 * `genReqId` stays, and `requestIdHeader` (the trusted incoming id) still
 * wins. The app's own log lines get the slot, as cluster-boot's do.
 */
export function useClusterRequestIds (app: FastifyInstance, slot: number, workerId: number): void {
  // with requestIdHeader set, an empty request still reaches the generator underneath
  const probe = (app as unknown as { genReqId?: (req: unknown) => unknown }).genReqId?.({ headers: {} })
  if (typeof probe === 'string' && FASTIFY_DEFAULT.test(probe)) {
    let n = 0
    app.setGenReqId(() => {
      n = (n + 1) & MAX_INT
      return `w${slot}-${workerId}-${n}`
    })
  }
  const log = app.log as unknown as Logging
  if (typeof log.setBindings === 'function' && log.bindings?.().slot === undefined) log.setBindings({ slot })
}
