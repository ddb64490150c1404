import { setupPrimary } from '@socket.io/cluster-adapter'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { PRIMARY_NAMESPACE } from './socket-io.js'

const SET_UP = Symbol.for('corral.realtime.cluster-adapter-primary')
type Holder = { [SET_UP]?: true }

/**
 * The primary's side of Socket.IO across the workers of one machine: the
 * cluster adapter's relay (`setupPrimary()`), which forwards what one worker's
 * Socket.IO server emits to the others. Register it on cluster-boot's admin
 * instance by cluster-boot when a worker's Socket.IO server asks for it
 * (`worker.usePrimary`), or by hand in `boot({ primary })`. Its messages are not the IPC bus's: the
 * bus drops them without a word.
 */
async function realtimePrimaryPlugin (admin: FastifyInstance): Promise<void> {
  const supervisor = admin.supervisor
  // fastify-plugin refuses an instance without it (decorators, below): this only narrows the type
  /* c8 ignore next */
  if (supervisor === undefined) throw new TypeError('@corral/realtime: fastify.supervisor is missing')
  // one relay per process: a second would deliver every message twice
  const holder = globalThis as Holder
  if (holder[SET_UP] !== true) {
    setupPrimary()
    holder[SET_UP] = true
  }
  supervisor.bus.handle(PRIMARY_NAMESPACE, () => ({ clusterAdapter: true }))
}

export const realtimePrimary = fp(realtimePrimaryPlugin, {
  name: '@corral/realtime-primary',
  fastify: '5.x',
  // cluster-boot's admin instance, and only it, has the supervisor
  decorators: { fastify: ['supervisor'] }
})

export default realtimePrimary
