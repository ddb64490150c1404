import cluster from 'node:cluster'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { drainConnections } from './connection-drain.js'
import { CONTROL, isControlMessage } from './control.js'
import { createLogger } from './logger.js'
import type { ResolvedOptions } from './options.js'
import { WorkerBus } from './worker-bus.js'
import { setWorkerContext, type ReadinessCheck, type WorkerContext } from './worker-context.js'
import type { WorkerStats } from './worker-record.js'

const READINESS_RETRY_MS = 100

class WorkerRuntime implements WorkerContext {
  readonly slot = Number(process.env.CORRAL_SLOT ?? 0)
  readonly id = cluster.worker?.id ?? 0
  readonly pid = process.pid
  draining = false
  readonly bus: WorkerBus
  readonly readinessChecks: ReadinessCheck[] = []
  readonly drainHooks: Array<() => void | Promise<void>> = []

  constructor (readonly log: Logger) {
    this.bus = new WorkerBus(process, (err, namespace) => log.error({ err, namespace }, 'IPC handler failed'))
  }

  addReadinessCheck (check: ReadinessCheck): void {
    this.readinessChecks.push(check)
  }

  onDrain (fn: () => void | Promise<void>): void {
    this.drainHooks.push(fn)
  }

  async isReady (): Promise<boolean> {
    for (const check of this.readinessChecks) {
      try {
        if (await check() === false) return false
      } catch {
        return false
      }
    }
    return true
  }
}

function statsSampler (): () => WorkerStats {
  const delay = monitorEventLoopDelay({ resolution: 10 })
  delay.enable()
  let elu = performance.eventLoopUtilization()
  return () => {
    const memory = process.memoryUsage()
    const nextElu = performance.eventLoopUtilization()
    const stats: WorkerStats = {
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      eventLoopDelay: Number.isFinite(delay.mean) ? delay.mean / 1e6 : 0,
      eventLoopUtilization: performance.eventLoopUtilization(nextElu, elu).utilization
    }
    elu = nextElu
    delay.reset()
    return stats
  }
}

/** The worker side of `boot()`: build the app, listen, report ready, drain on request. */
export async function runWorker (opts: ResolvedOptions): Promise<FastifyInstance> {
  const log = createLogger(opts.logger, { role: 'worker', slot: Number(process.env.CORRAL_SLOT ?? 0), workerId: cluster.worker?.id, pid: process.pid })
  const runtime = new WorkerRuntime(log)
  process.title = `corral worker ${runtime.slot}`
  setWorkerContext(runtime)

  let app: FastifyInstance
  try {
    app = await opts.app(runtime)
    // on the root instance before any plugin loads, so every plugin sees it
    if (!app.hasDecorator('worker')) app.decorate('worker', runtime)
    const reusePort = process.env.CORRAL_SCHEDULING === 'reuseport'
    await app.listen({ port: opts.port, host: opts.host, ...(reusePort ? { reusePort: true, exclusive: true } : {}) })
  } catch (err) {
    log.fatal({ err }, 'worker failed to start')
    process.exit(1)
  }

  const drain = async (reason: string): Promise<void> => {
    if (runtime.draining) return
    runtime.draining = true
    log.info({ reason }, 'draining')
    const timings = { started: Date.now() }
    for (const hook of runtime.drainHooks) {
      try { await hook() } catch (err) { log.error({ err }, 'drain hook failed') }
    }
    await drainConnections(app.server, opts.idleCloseDelay)
    try {
      await app.close()
    } catch (err) {
      log.error({ err }, 'error while closing the app')
    }
    log.info({ reason, drainMs: Date.now() - timings.started }, 'drained, exiting')
    // the channel is ordered: once this is written, everything sent before it is too
    await runtime.bus.deliver(CONTROL, { event: 'exiting' })
    process.exit(0)
  }

  runtime.bus.on(CONTROL, (data) => {
    if (isControlMessage(data) && data.event === 'drain') drain(data.reason)
  })
  process.on('SIGTERM', () => { drain('SIGTERM') })
  process.on('SIGINT', () => { drain('SIGINT') })
  // the primary is gone: no one will route to us or respawn us
  process.on('disconnect', () => { drain('primary disconnected') })

  const deadline = Date.now() + opts.readyTimeout
  while (!(await runtime.isReady())) {
    if (runtime.draining || Date.now() > deadline) return app
    await new Promise((resolve) => setTimeout(resolve, READINESS_RETRY_MS))
  }
  runtime.bus.send(CONTROL, { event: 'ready' })

  const sample = statsSampler()
  setInterval(() => {
    if (!runtime.draining) runtime.bus.send(CONTROL, { event: 'stats', stats: sample() })
  }, opts.statsInterval).unref()
  return app
}
