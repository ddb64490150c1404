import type { RedisClient } from '../redis-client.js'
import { RedisSessionBackend } from './redis-backend.js'
import { SessionStore, type SessionStoreOptions } from './store.js'

export interface RedisStoreOptions extends SessionStoreOptions {
  /** an ioredis client: `Redis`, `Cluster`, or a Sentinel-backed `Redis` */
  client: RedisClient
  /** key prefix (default 'corral:') */
  prefix?: string
}

/**
 * A `@fastify/session` store on ioredis. Values are JSON under
 * `<prefix>sess:<id>`, TTLs follow the cookie's maxAge, reads slide the TTL
 * (GETEX, Redis >= 6.2) and unchanged sessions are not written back.
 */
export class RedisStore extends SessionStore {
  constructor (options: RedisStoreOptions) {
    super(new RedisSessionBackend(options.client, options.prefix ?? 'corral:'), options)
  }
}
