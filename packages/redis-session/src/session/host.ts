import type { PrimaryBusApi } from '@corral/cluster-boot'
import { InvalidRequestError } from '../errors.js'
import type { WriteMode } from './backend.js'
import type { MemorySessionBackend } from './memory-backend.js'

export const SESSION_NAMESPACE = 'corral.session'

export type SessionRequest =
  | { op: 'ping' }
  | { op: 'get', id: string, ttl: number }
  | { op: 'set', id: string, value: string, ttl: number, mode: WriteMode, user?: string }
  | { op: 'touch', id: string, ttl: number }
  | { op: 'destroy', id: string }
  | { op: 'destroyAll', user: string }

const MAX_ID = 256
const MAX_VALUE = 1024 * 1024

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID
const isTtl = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0

/** Checks what a worker sent; anything else is refused, never thrown on in the primary's loop. */
export function parseSessionRequest (data: unknown): SessionRequest {
  if (data === null || typeof data !== 'object') throw new InvalidRequestError('not an object')
  const r = data as Record<string, unknown>
  switch (r.op) {
    case 'ping':
      return { op: 'ping' }
    case 'get':
    case 'touch':
      if (isId(r.id) && isTtl(r.ttl)) return { op: r.op, id: r.id, ttl: r.ttl }
      break
    case 'set':
      if (isId(r.id) && isTtl(r.ttl) && typeof r.value === 'string' && r.value.length <= MAX_VALUE &&
        (r.mode === 'create' || r.mode === 'update') && (r.user === undefined || isId(r.user))) {
        return { op: 'set', id: r.id, value: r.value, ttl: r.ttl, mode: r.mode, user: r.user }
      }
      break
    case 'destroy':
      if (isId(r.id)) return { op: 'destroy', id: r.id }
      break
    case 'destroyAll':
      if (isId(r.user)) return { op: 'destroyAll', user: r.user }
      break
  }
  throw new InvalidRequestError(`bad "${String(r.op).slice(0, 32)}" request`)
}

/** Serves the workers' session requests from `backend`; returns a function that stops serving. */
export function hostSessions (bus: PrimaryBusApi, backend: MemorySessionBackend): () => void {
  bus.handle(SESSION_NAMESPACE, async (data) => {
    const request = parseSessionRequest(data)
    switch (request.op) {
      case 'ping': return true
      case 'get': return await backend.get(request.id, request.ttl)
      case 'set': return await backend.set(request.id, request.value, request.ttl, request.mode, request.user)
      case 'touch': return await backend.touch(request.id, request.ttl)
      case 'destroy': return await backend.destroy(request.id)
      case 'destroyAll': return await backend.destroyAll(request.user)
    }
  })
  return () => backend.close()
}
