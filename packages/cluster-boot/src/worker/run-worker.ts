import cluster from 'node:cluster'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { processTitle } from '../process-title.js'
import { drainConnections } from './connection-drain.js'
import { CONTROL, isControlMessage, jsonOptionsProblem, PRIMARY_MODULES, PRIMARY_SEALED, primaryModuleProblem, type PrimaryModuleReply } from '../ipc/control.js'
import { AppNotFastifyError, InvalidPrimaryModuleError } from '../errors.js'
import { createLogger } from '../logger.js'
import type { ResolvedOptions } from '../options.js'
import { describeStartupFailure } from './startup-failure.js'
import { STICKY_CONNECTION } from '../primary/sticky-balancer.js'
import { acceptStickyConnections } from './sticky-connections.js'
import { WorkerBus } from '../ipc/worker-bus.js'
import { setWorkerContext, type ReadinessCheck, type WorkerContext } from './worker-context.js'
import { statsSampler } from './worker-stats.js'
import { useClusterRequestIds } from './request-ids.js'
import { blockingOutput, flushOutput } from './flush-output.js'

const READINESS_RETRY_MS = 100

class WorkerRuntime implements WorkerContext {
  readonly slot = Number(process.env.CORRAL_SLOT ?? 0)
  readonly id = cluster.worker?.id ?? 0
  readonly pid = process.pid
  draining = false
  readonly bus: WorkerBus
  readonly readinessChecks: ReadinessCheck[] = []
  readonly drainHooks: Array<() => void | Promise<void>> = []
  /** primary modules asked for, by URL: each is asked once per worker */
  private readonly primaryModules = new Map<string, Promise<boolean>>()

  constructor (readonly log: Logger, private readonly replyTimeout: number) {
    this.bus = new WorkerBus(process, (err, namespace) => log.error({ err, namespace }, 'IPC handler failed'))
  }

  usePrimary (module: string | URL, options: object = {}): Promise<boolean> {
    const href = module instanceof URL ? module.href : module
    const problem = primaryModuleProblem(href) ?? jsonOptionsProblem(options)
    if (problem !== undefined) return Promise.reject(new InvalidPrimaryModuleError(JSON.stringify(String(href)), problem))
    let asked = this.primaryModules.get(href)
    if (asked === undefined) {
      asked = this.bus.request<PrimaryModuleReply>(PRIMARY_MODULES, { op: 'use', module: href, options }, { timeout: this.replyTimeout })
        .then((reply) => reply?.loaded === true, (err: unknown) => {
          this.log.warn({ err, module: href }, 'the primary did not answer about a primary module')
          return false
        })
      this.primaryModules.set(href, asked)
    }
    return asked
  }

  /**
   * Once the app is built and before it counts as ready: every module this
   * worker asked for is settled, and the primary has its admin server up.
   */
  async sealPrimary (): Promise<void> {
    await Promise.all(this.primaryModules.values())
    if (process.env[PRIMARY_SEALED] === '1') return
    await this.bus.request(PRIMARY_MODULES, { op: 'seal' }, { timeout: this.replyTimeout })
      .catch((err: unknown) => { this.log.warn({ err }, 'the primary did not confirm its admin server is up') })
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

function isFastify (value: unknown): value is FastifyInstance {
  if (value === null || typeof value !== 'object') return false
  const app = value as Record<string, unknown>
  return typeof app.listen === 'function' && typeof app.ready === 'function' && typeof app.hasDecorator === 'function'
}

function kind (value: unknown): string {
  if (value === undefined || value === null) return String(value)
  if (typeof value !== 'object') return `a ${typeof value}`
  return `an object (${Object.keys(value).slice(0, 5).join(', ') || 'no keys'})`
}

/**
 * The worker side of `boot()`: build the app, load its plugins, wait until
 * its readiness checks pass, and only then listen and report ready, so no
 * connection (round-robin, OS or reuseport) reaches a worker not ready for it.
 */
export async function runWorker (opts: ResolvedOptions): Promise<FastifyInstance> {
  blockingOutput()
  const log = createLogger(opts.logger, { role: 'worker', slot: Number(process.env.CORRAL_SLOT ?? 0), workerId: cluster.worker?.id, pid: process.pid })
  const runtime = new WorkerRuntime(log, opts.readyTimeout)
  process.title = processTitle('worker', runtime.slot)
  setWorkerContext(runtime)

  let app: FastifyInstance | undefined
  const build = (async () => {
    const built: unknown = await opts.app(runtime)
    if (!isFastify(built)) throw new AppNotFastifyError(kind(built))
    app = built
    // on the root instance before any plugin loads, so every plugin sees it
    if (!app.hasDecorator('worker')) app.decorate('worker', runtime)
    useClusterRequestIds(app, runtime.slot, runtime.id)
    // plugins load here and register their readiness checks
    await app.ready()
  })()
  // a drain waits for the build; the build's own error is handled below
  const built = build.then(() => true, () => false)
  // a drain that comes while listen() is under way waits for it: closing a server not yet listening closes nothing
  let listening: Promise<unknown> = Promise.resolve()

  const drain = async (reason: string): Promise<void> => {
    if (runtime.draining) return
    runtime.draining = true
    log.info({ reason }, 'draining')
    const started = Date.now()
    if (!(await built) || app === undefined) process.exit(0)
    for (const hook of runtime.drainHooks) {
      try { await hook() } catch (err) { log.error({ err }, 'drain hook failed') }
    }
    await listening.catch(() => {})
    await drainConnections(app.server, opts.idleCloseDelay)
    try {
      await app.close()
    } catch (err) {
      log.error({ err }, 'error while closing the app')
    }
    log.info({ reason, drainMs: Date.now() - started }, 'drained, exiting')
    // the channel is ordered: once this is written, everything sent before it is too
    await runtime.bus.deliver(CONTROL, { event: 'exiting' })
    await flushOutput()
    process.exit(0)
  }

  // before the app is built: a drain sent while this worker starts is never dropped
  runtime.bus.on(CONTROL, (data) => {
    if (isControlMessage(data) && data.event === 'drain') drain(data.reason)
  })
  process.on('SIGTERM', () => { drain('SIGTERM') })
  process.on('SIGINT', () => { drain('SIGINT') })
  // the primary is gone: no one will route to us or respawn us
  process.on('disconnect', () => { drain('primary disconnected') })

  try {
    await build
    const deadline = Date.now() + opts.readyTimeout
    while (!runtime.draining && !(await runtime.isReady())) {
      if (Date.now() > deadline) {
        // not listening, so no traffic; the primary replaces this worker
        log.error({ readyTimeout: opts.readyTimeout }, 'readiness checks did not pass within readyTimeout')
        return app as FastifyInstance
      }
      await new Promise((resolve) => setTimeout(resolve, READINESS_RETRY_MS))
    }
    if (runtime.draining) return app as FastifyInstance
    // the admin server readies with the primary modules the first worker asked for, before that worker counts as ready
    await runtime.sealPrimary()
    if (runtime.draining) return app as FastifyInstance
    const scheduling = process.env.CORRAL_SCHEDULING
    if (scheduling === 'sticky') {
      // the primary listens and hands connections over, only once it saw 'ready': nothing to bind here
      acceptStickyConnections(process, (app as FastifyInstance).server)
      runtime.bus.on(STICKY_CONNECTION, () => {}) // the socket is taken above; this only marks the namespace as known
    } else {
      const reusePort = scheduling === 'reuseport'
      listening = (app as FastifyInstance).listen({ port: opts.port, host: opts.host, ...(reusePort ? { reusePort: true, exclusive: true } : {}) })
      await listening
    }
  } catch (err) {
    if (runtime.draining) return app as FastifyInstance
    // the primary prints it once for every worker; alone (no IPC), say it here
    const reported = await runtime.bus.deliver(CONTROL, { event: 'failed', error: describeStartupFailure(err, opts) })
    if (reported) log.debug({ err }, 'worker failed to start')
    else log.fatal({ err }, 'worker failed to start')
    await flushOutput()
    process.exit(1)
  }
  if (runtime.draining) return app as FastifyInstance

  runtime.bus.send(CONTROL, { event: 'ready' })
  // every request on the server, whatever plugin or encapsulation context routes it: `corral list` shows the rate
  let requests = 0
  ;(app as FastifyInstance).server.on('request', () => { requests++ })
  const sample = statsSampler(() => requests)
  setInterval(() => {
    if (!runtime.draining) runtime.bus.send(CONTROL, { event: 'stats', stats: sample() })
  }, opts.statsInterval).unref()
  return app as FastifyInstance
}
