import type { WorkerBus } from '@corral/cluster-boot'
import type { FastifyBaseLogger } from 'fastify'
import { CacheUnavailableError, reason } from '../errors.js'
import { CACHE_NAMESPACE, type CacheRequest, type LeadAnswer } from './host.js'
import type { CacheApi, CacheOptions } from './cache-api.js'
import { SingleFlight } from './single-flight.js'
import { parseCached } from './parse-cached.js'

const IPC_MARGIN_MS = 1000

/**
 * A worker's view of the cache the cluster-boot primary hosts. `wrap` is
 * single-flight in the worker, then across workers through the primary,
 * which names one leader per key and hands its value to the others.
 */
export class PrimaryCache implements CacheApi {
  private readonly flight: SingleFlight

  constructor (private readonly bus: WorkerBus, private readonly options: CacheOptions, private readonly log: FastifyBaseLogger) {
    this.flight = new SingleFlight(options.waitTimeout)
  }

  private async ask<T> (request: CacheRequest, timeout = this.options.waitTimeout + IPC_MARGIN_MS): Promise<T> {
    try {
      return await this.bus.request<T>(CACHE_NAMESPACE, request, { timeout })
    } catch (err) {
      throw new CacheUnavailableError(reason(err))
    }
  }

  async get<T = unknown> (key: string): Promise<T | undefined> {
    const json = await this.ask<string | null>({ op: 'get', key })
    return json === null ? undefined : this.parse<T>(key, json)
  }

  async set (key: string, value: unknown, options?: { ttl?: number }): Promise<void> {
    const json = JSON.stringify(value)
    if (json !== undefined) await this.ask({ op: 'set', key, json, ttl: options?.ttl ?? this.options.ttl })
  }

  async del (key: string): Promise<void> {
    await this.ask({ op: 'del', key })
  }

  async wrap<T> (key: string, fn: () => T | Promise<T>, options?: { ttl?: number }): Promise<T> {
    return await this.flight.run(key, async () => {
      let answer: LeadAnswer
      try {
        answer = await this.ask<LeadAnswer>({ op: 'lead', key })
      } catch (err) {
        this.log.warn({ err: { message: (err as Error).message } }, 'cache: the primary did not answer, calling the origin directly')
        return await fn()
      }
      if ('json' in answer) {
        const value = this.parse<T>(key, answer.json)
        return value !== undefined ? value : await fn()
      }
      if ('alone' in answer) return await fn()
      const flight = answer.flight
      let value: T
      try {
        value = await fn()
      } catch (err) {
        this.ask({ op: 'settle', key, flight }).catch(() => {})
        throw err
      }
      const json = JSON.stringify(value)
      // fire and forget: the caller has its value; followers get it as soon as the primary does
      this.ask({ op: 'settle', key, flight, json, ttl: options?.ttl ?? this.options.ttl }).catch(() => {})
      return value
    }, fn)
  }

  private parse<T> (key: string, json: string): T | undefined {
    return parseCached<T>(key, json, this.log)
  }
}
