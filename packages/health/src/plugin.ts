import { describeValue } from '@corral/cluster-boot/options'
import { setTimeout as sleep } from 'node:timers/promises'
import { workerContext } from '@corral/cluster-boot'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { CheckFn, CheckOptions } from './check.js'
import { CheckRunner, type RunResult, type Status } from './check-runner.js'
import { checkDefinition, checkName, resolveOptions, type HealthOptions } from './options.js'
import { InvalidOptionError } from './errors.js'
import { healthBody, MEDIA_TYPE, verdict } from './report.js'
import { HEALTH_NAMESPACE, type ReadinessReport } from './readiness-report.js'

/** `fastify.health`: checks at run time, the current verdict, and a graceful way out. */
export interface HealthApi {
  /** adds (or replaces) a check; `critical` defaults to true, `timeout` to the plugin's */
  addCheck (name: string, fn: CheckFn, options?: CheckOptions): void
  removeCheck (name: string): boolean
  /** runs the checks (or reuses a result younger than checkInterval) */
  check (): Promise<RunResult & { ready: boolean }>
  /** true once shutdown started: readiness answers 503 */
  readonly draining: boolean
  /**
   * Turns readiness to 503, keeps serving for `shutdownDelay`, then closes
   * the server: call it from your SIGTERM handler when not under cluster-boot.
   */
  shutdown (): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** @corral/health */
    health: HealthApi
  }
}

/**
 * `/health/live`, `/health/ready` and `/health` (details), answering GET,
 * HEAD and OPTIONS with `application/health+json`; checks with timeouts and
 * a shared, cached run; readiness that fails as soon as shutdown starts.
 */
async function healthPlugin (fastify: FastifyInstance, options: HealthOptions): Promise<void> {
  const opts = resolveOptions(options)
  const runner = new CheckRunner(opts.checkInterval, opts.timeout)
  for (const [name, definition] of opts.checks) runner.add(name, definition.check, definition)
  const worker = workerContext()
  let draining = false

  const report = (result: RunResult | undefined): void => {
    if (worker === null) return
    // runner.run() does not reject (runOne catches every check's error): undefined is a guard, not a path a test can take
    /* c8 ignore next */
    const message: ReadinessReport = { status: result === undefined ? 'fail' : verdict(result, draining), draining, at: Date.now() }
    worker.bus.send(HEALTH_NAMESPACE, message)
  }
  const check = async (): Promise<RunResult & { ready: boolean }> => {
    const result = await runner.run()
    return { ...result, ready: verdict(result, draining) !== 'fail' }
  }
  const startDraining = async (): Promise<void> => {
    if (draining) return
    draining = true
    report(await runner.run().catch(() => undefined))
    if (opts.shutdownDelay > 0) await sleep(opts.shutdownDelay)
  }

  fastify.decorate('health', {
    addCheck (name: string, fn: CheckFn, checkOptions: CheckOptions = {}) {
      const definition = checkDefinition(`check "${checkName(name)}"`, { ...checkOptions, check: fn })
      runner.add(name, definition.check, definition)
    },
    removeCheck: (name: string) => runner.remove(name),
    check,
    get draining () { return draining },
    shutdown: async () => {
      await startDraining()
      await fastify.close()
    }
  } satisfies HealthApi)

  // a plain close: readiness fails with everything else (Fastify answers 503 once closing)
  fastify.addHook('preClose', async () => { draining = true })
  if (worker !== null) {
    if (options.primary !== false) {
      const primary = options.primary ?? {}
      if (primary === null || typeof primary !== 'object' || Array.isArray(primary)) throw new InvalidOptionError('primary', 'an object of aggregator options or false', describeValue(primary))
      // the machine's view (/health on the admin server): the primary loads it before this worker counts as ready
      await worker.usePrimary(new URL('./primary.js', import.meta.url), primary)
    }
    // under cluster-boot the listener still serves while this waits: the balancer notices first
    worker.onDrain(startDraining)
    worker.addReadinessCheck(async () => (await check()).ready)
    const timer = setInterval(() => { runner.run().then(report, () => report(undefined)) }, opts.reportInterval)
    timer.unref()
    fastify.addHook('onReady', async () => { runner.run().then(report, () => report(undefined)) })
    fastify.addHook('onClose', async () => clearInterval(timer))
  }

  const answer = (reply: FastifyReply, status: Status, body: unknown): FastifyReply => {
    reply.code(status === 'fail' ? 503 : 200).type(MEDIA_TYPE).header('cache-control', 'no-store')
    if (status === 'fail') reply.header('retry-after', String(opts.retryAfter))
    return reply.send(body)
  }
  const route = (url: string, handler: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>): void => {
    fastify.route({
      method: ['GET', 'HEAD', 'OPTIONS'],
      url,
      exposeHeadRoute: false,
      ...(opts.logProbes ? {} : { logLevel: 'silent' as const }),
      handler
    })
  }

  // the process answers: that is all liveness asks, so an outage never restarts every instance
  route(opts.paths.live, async (_request, reply) => answer(reply, 'pass', { status: 'pass' }))
  route(opts.paths.ready, async (request, reply) => {
    const result = await runner.run()
    return answer(reply, verdict(result, draining), healthBody(result, draining, false))
  })
  route(opts.paths.details, async (request, reply) => {
    const result = await runner.run()
    return answer(reply, verdict(result, draining), healthBody(result, draining, opts.exposeDetails(request)))
  })
}

export const corralHealth = fp(healthPlugin, {
  name: '@corral/health',
  fastify: '5.x'
})
