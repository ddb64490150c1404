import type { WorkerInfo } from '@corral/cluster-boot'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { resolveAggregatorOptions, type HealthAggregatorOptions } from './options.js'
import { HEALTH_NAMESPACE, isReadinessReport, type ReadinessReport } from './readiness-report.js'
import { MEDIA_TYPE } from './report.js'
import { machineStatus, readSlots } from './supervisor-view.js'

interface WorkerHealth extends ReadinessReport { slot: number, pid: number }

/**
 * The primary's view of the machine: each worker's last readiness report
 * (pushed over the IPC bus) and the supervisor's state, at `GET /health` on
 * the admin server; 503 when no worker is ready, warn while a slot is short
 * of a ready worker or backing off after crashes. The primary loads it on
 * cluster-boot's admin instance (`@corral/health/primary`) when a worker
 * registers the health plugin; `boot({ primary })` may register it by hand.
 */
async function healthAggregatorPlugin (admin: FastifyInstance, options: HealthAggregatorOptions): Promise<void> {
  const supervisor = admin.supervisor
  // fastify-plugin refuses an instance without it (decorators, below): this only narrows the type
  /* c8 ignore next */
  if (supervisor === undefined) throw new TypeError('@corral/health: fastify.supervisor is missing')
  const { path, staleAfter, retryAfter } = resolveAggregatorOptions(options)

  const latest = new Map<WorkerInfo, WorkerHealth>()
  let dropped = 0
  const unsubscribe = supervisor.bus.on(HEALTH_NAMESPACE, (data, from) => {
    if (!isReadinessReport(data)) {
      dropped++
      return
    }
    latest.set(from, { slot: from.slot, pid: from.pid, status: data.status, draining: data.draining, at: Date.now() })
  })
  const onExit = (record: WorkerInfo): void => { latest.delete(record) }
  supervisor.on('exit', onExit)
  admin.addHook('onClose', async () => {
    unsubscribe()
    supervisor.off('exit', onExit)
  })

  admin.route({
    method: ['GET', 'HEAD', 'OPTIONS'],
    url: path,
    exposeHeadRoute: false,
    logLevel: 'silent',
    handler: async (_request, reply) => {
      const now = Date.now()
      const state = supervisor.state()
      // its own report is not enough: a replacement reports pass before it listens, and a draining or hung worker takes no traffic
      const workers = [...latest.entries()]
        .map(([record, w]) => ({ ...w, ready: w.status !== 'fail' && !w.draining && now - w.at < staleAfter && record.state === 'ready', ageMs: now - w.at }))
        .sort((a, b) => a.slot - b.slot)
      const ready = workers.filter((w) => w.ready).length
      const slots = readSlots(state, now)
      const backoff = slots.filter((s) => s.status === 'backoff')
      // one worker per slot is the goal: a reload's second worker in a slot is not a missing one
      const status = machineStatus(ready, slots.length > 0 ? slots.length : state.workers.length, slots)
      reply.code(status === 'fail' ? 503 : 200).type(MEDIA_TYPE).header('cache-control', 'no-store')
      if (status === 'fail') reply.header('retry-after', String(retryAfter))
      return {
        status,
        checks: {
          'workers:ready': [{ status, observedValue: ready, observedUnit: 'workers', time: new Date(now).toISOString() }],
          ...(backoff.length > 0 ? { 'slots:backoff': [{ status: 'warn', observedValue: backoff.length, observedUnit: 'slots', time: new Date(now).toISOString() }] } : {})
        },
        ...(slots.length > 0 ? { slots } : {}),
        workers: workers.map(({ slot, pid, status, draining, ready, ageMs }) => ({ slot, pid, status, draining, ready, ageMs })),
        supervisor: { stopping: supervisor.stopping, workers: state.workers.length },
        droppedReports: dropped
      }
    }
  })
}

export const healthAggregator = fp(healthAggregatorPlugin, {
  name: '@corral/health-aggregator',
  fastify: '5.x',
  // cluster-boot's admin instance, and only it, has the supervisor
  decorators: { fastify: ['supervisor'] }
})
