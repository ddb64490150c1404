import type { PrimaryBusApi } from '@corral/cluster-boot'
import type { FastifyBaseLogger } from 'fastify'
import type { EmbeddedStats } from '../session/memory-backend.js'
import { InvalidRequestError } from '../errors.js'
import { MemoryCache } from './memory-cache.js'
import type { CacheOptions } from './cache-api.js'

export const CACHE_NAMESPACE = 'corral.cache'

/** What a worker asks the primary's cache. */
export type CacheRequest =
  | { op: 'get', key: string }
  | { op: 'set', key: string, json: string, ttl?: number }
  | { op: 'del', key: string }
  /** a miss in `wrap`: answer the value, or make the asker the leader, or make it wait for the leader */
  | { op: 'lead', key: string }
  /** the leader's value (json), or its failure (no json), for the flight it was told to lead */
  | { op: 'settle', key: string, flight: number, json?: string, ttl?: number }

/**
 * The answer to `lead`: a value, or "you lead flight n", or "compute it
 * yourself" (the wait ran out, the leader failed, or the key was deleted).
 */
export type LeadAnswer = { json: string } | { lead: true, flight: number } | { alone: true }

const MAX_KEY = 1024
const MAX_JSON = 8 * 1024 * 1024
const isKey = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_KEY
const isTtl = (v: unknown): boolean => v === undefined || (typeof v === 'number' && Number.isFinite(v) && v > 0)
const isJson = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_JSON

export function parseCacheRequest (data: unknown): CacheRequest {
  if (data === null || typeof data !== 'object') throw new InvalidRequestError('not an object')
  const r = data as Record<string, unknown>
  if (!isKey(r.key)) throw new InvalidRequestError('bad cache key')
  const key = r.key
  const ttl = r.ttl as number | undefined
  switch (r.op) {
    case 'get': case 'del': case 'lead':
      return { op: r.op, key }
    case 'set':
      if (isJson(r.json) && isTtl(ttl)) return { op: 'set', key, json: r.json, ttl }
      break
    case 'settle':
      if ((r.json === undefined || isJson(r.json)) && isTtl(ttl) && Number.isSafeInteger(r.flight)) {
        return { op: 'settle', key, flight: r.flight as number, json: r.json as string | undefined, ttl }
      }
      break
  }
  throw new InvalidRequestError(`bad "${String(r.op).slice(0, 32)}" cache request`)
}

interface Flight { id: number, timer: NodeJS.Timeout, waiters: Array<(answer: LeadAnswer) => void> }

/** The embedded cache the primary hosts: its counters, and a function that stops serving. */
export interface HostedCache { stats: EmbeddedStats, close: () => void }

/**
 * The primary's cache for its workers: values in a bounded map, and the
 * single-flight across workers: the first miss leads, later ones wait for its
 * value (at most `waitTimeout`), and a leader silent for `lockTtl` (it died)
 * loses the lead. Only the current flight's value is stored: a leader that
 * lost the lead, or whose key was deleted meanwhile, does not write back.
 */
export function hostCache (bus: PrimaryBusApi, options: CacheOptions, log?: Pick<FastifyBaseLogger, 'warn'>): HostedCache {
  const cache = new MemoryCache(options, log)
  const flights = new Map<string, Flight>()
  let lastFlight = 0

  const settle = (key: string, answer: LeadAnswer): void => {
    const flight = flights.get(key)
    if (flight === undefined) return
    flights.delete(key)
    clearTimeout(flight.timer)
    for (const waiter of flight.waiters) waiter(answer)
  }

  bus.handle(CACHE_NAMESPACE, async (data) => {
    const request = parseCacheRequest(data)
    switch (request.op) {
      case 'get': return cache.raw(request.key) ?? null
      case 'set': cache.setRaw(request.key, request.json, request.ttl); return true
      case 'del':
        await cache.del(request.key)
        // whoever waits computes afresh; the running leader's value is stale
        settle(request.key, { alone: true })
        return true
      case 'settle':
        if (flights.get(request.key)?.id !== request.flight) return false
        if (request.json !== undefined) cache.setRaw(request.key, request.json, request.ttl)
        settle(request.key, request.json !== undefined ? { json: request.json } : { alone: true })
        return true
      case 'lead': {
        const json = cache.raw(request.key)
        if (json !== undefined) return { json }
        const flight = flights.get(request.key)
        if (flight === undefined) {
          const timer = setTimeout(() => settle(request.key, { alone: true }), options.lockTtl)
          timer.unref()
          const id = ++lastFlight
          flights.set(request.key, { id, timer, waiters: [] })
          return { lead: true, flight: id }
        }
        return await new Promise<LeadAnswer>((resolve) => {
          const timer = setTimeout(() => resolve({ alone: true }), options.waitTimeout)
          timer.unref()
          flight.waiters.push((answer) => { clearTimeout(timer); resolve(answer) })
        })
      }
    }
  })
  return {
    stats: cache,
    close: () => {
      for (const key of [...flights.keys()]) settle(key, { alone: true })
      cache.close()
    }
  }
}
