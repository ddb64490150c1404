import { bounded } from '../redis/bounded.js'
import type { SessionBackend } from './backend.js'

/**
 * Every session operation answered within `timeout`, whatever the client
 * underneath: the request gets its 503 in time even when the client would
 * wait (a Cluster passed in with ioredis' defaults and a hung master). Every
 * method of the backend is wrapped, so one added later is bounded too.
 */
export function boundedBackend (backend: SessionBackend, timeout: number): SessionBackend {
  const wrapped = new Map<PropertyKey, unknown>()
  return new Proxy(backend, {
    get (target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver)
      if (typeof value !== 'function') return value
      let fn = wrapped.get(name)
      if (fn === undefined) {
        fn = (...args: unknown[]) => {
          const result: unknown = value.apply(target, args)
          return result instanceof Promise ? bounded(result, timeout) : result
        }
        wrapped.set(name, fn)
      }
      return fn
    }
  })
}
