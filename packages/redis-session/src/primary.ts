import type { Supervisor } from '@corral/cluster-boot'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { hostCache } from './cache/index.js'
import { InvalidOptionError } from './errors.js'
import { resolveCacheOptions, type PrimaryHostOptions } from './options.js'
import { hostPubSub } from './pubsub/index.js'
import { hostSessions } from './session/host.js'
import { MemorySessionBackend } from './session/memory-backend.js'

/**
 * The primary's side of the embedded store: sessions, cache and pub/sub for
 * every worker of the machine, over the IPC bus. Register it on cluster-boot's
 * admin instance in `boot({ primary })`; workers whose plugin has no `redis`
 * use it.
 */
async function redisSessionPrimaryPlugin (admin: FastifyInstance, options: PrimaryHostOptions): Promise<void> {
  const supervisor = (admin as FastifyInstance & { supervisor?: Supervisor }).supervisor
  if (supervisor === undefined) {
    throw new InvalidOptionError('admin', "redisSessionPrimary belongs on cluster-boot's admin instance, in boot({ primary })")
  }
  const maxSessions = options.maxSessions ?? 100_000
  if (!Number.isSafeInteger(maxSessions) || maxSessions <= 0) {
    throw new InvalidOptionError('maxSessions', `expected a positive integer, got ${JSON.stringify(maxSessions)}`)
  }
  const bus = supervisor.bus
  const disposers = [
    hostSessions(bus, new MemorySessionBackend({ maxSessions })),
    hostCache(bus, resolveCacheOptions(options.cache)),
    hostPubSub(bus)
  ]
  admin.addHook('onClose', async () => { for (const dispose of disposers) dispose() })
}

export const redisSessionPrimary = fp(redisSessionPrimaryPlugin, {
  name: '@corral/redis-session-primary',
  fastify: '5.x'
})
