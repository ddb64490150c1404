import cluster from 'node:cluster'
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { processTitle } from './process-title.js'
import { createAdmin, isLoopback } from './primary/admin.js'
import { createLogger } from './logger.js'
import { resolveOptions, type BootOptions, type Scheduling, type SchedulingOption } from './options.js'
import { StickyBalancer } from './primary/sticky-balancer.js'
import { Supervisor } from './primary/supervisor.js'
import { runWorker } from './worker/run-worker.js'

/** SO_REUSEPORT listening arrived in Node 22.12 and 23.1, on Linux. */
export function reusePortSupported (version = process.versions.node, platform = process.platform): boolean {
  const [major, minor] = version.split('.').map(Number)
  if (platform !== 'linux') return false
  return major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)
}

/**
 * Whether Linux moves the connections queued on a closing SO_REUSEPORT
 * listener to another listener of its group (sysctl net.ipv4.tcp_migrate_req,
 * Linux >= 5.14, off by default). Without it, the connections accepted by the
 * kernel for a worker that drains in a reload are reset.
 */
export function reusePortMigrates (read = (): string => readFileSync('/proc/sys/net/ipv4/tcp_migrate_req', 'utf8')): boolean {
  try {
    return read().trim() === '1'
  } catch {
    return false
  }
}

/**
 * What runs for a `scheduling` option here. 'auto' takes the primary out of
 * the accept path: with round-robin every new connection passes through the
 * primary and over IPC, which halves throughput when each request opens one
 * (bench/README.md, "Scheduling"). It is 'reuseport' only where the kernel
 * also migrates a closing listener's queue (a reload under 'reuseport'
 * otherwise resets the connections queued on the drained worker's socket:
 * test/readiness), else 'none' (one shared socket: nothing queued is lost),
 * which measured nearly as fast. An explicit 'reuseport' where Node or the
 * platform lacks it is 'none'.
 */
export function chooseScheduling (requested: SchedulingOption, supported = reusePortSupported(), migrates = reusePortMigrates()): Scheduling {
  if (requested === 'auto') return supported && migrates ? 'reuseport' : 'none'
  if (requested === 'reuseport') return supported ? 'reuseport' : 'none'
  return requested
}

/**
 * Starts the cluster. In the primary: validates the options, sets up the
 * admin instance, forks the workers and supervises them until a signal stops
 * it; resolves with the Supervisor once every worker is ready. In a worker:
 * builds, listens and resolves with the app.
 */
export async function boot (options: BootOptions): Promise<Supervisor | FastifyInstance> {
  const opts = resolveOptions(options)
  if (cluster.isWorker) return runWorker(opts)

  process.title = processTitle('primary')
  const log = createLogger(opts.logger, { role: 'primary', primaryPid: process.pid })
  const scheduling = chooseScheduling(opts.scheduling)
  if (opts.scheduling === 'reuseport' && scheduling !== 'reuseport') {
    log.warn({ node: process.versions.node, platform: process.platform }, "scheduling 'reuseport' needs Node >= 22.12 on Linux: using 'none'")
  } else if (scheduling === 'reuseport' && !reusePortMigrates()) {
    log.warn("scheduling 'reuseport' without sysctl net.ipv4.tcp_migrate_req=1: a reload resets the connections queued on a draining worker's socket")
  }
  cluster.schedulingPolicy = scheduling === 'none' ? cluster.SCHED_NONE : cluster.SCHED_RR
  opts.env.CORRAL_SCHEDULING = scheduling

  const supervisor = new Supervisor(opts, log)
  // sticky: the primary accepts and routes every connection itself; the workers listen on nothing public
  const balancer = scheduling === 'sticky' ? new StickyBalancer(supervisor, opts.workers, log) : undefined
  const admin = createAdmin(supervisor, log, opts.admin)
  if (opts.primary !== undefined) await opts.primary(admin)
  if (opts.admin !== false) {
    if (!isLoopback(opts.admin.host)) log.warn({ host: opts.admin.host }, 'admin server listens beyond loopback: every request must carry admin.token')
    await admin.listen({ port: opts.admin.port, host: opts.admin.host })
  } else {
    await admin.ready()
  }

  let signals = 0
  const stop = (signal: string): void => {
    // no new connections once stopping, as the workers' own listeners close under the other schedulings
    balancer?.close()
    if (++signals > 1) {
      log.warn({ signal }, 'second signal: killing workers now')
      supervisor.kill()
      return
    }
    supervisor.stop(signal)
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGHUP', () => { supervisor.reload() })
  let failed = false
  // one throw in the primary must not orphan every worker (and the state it hosts): stop them gracefully
  process.on('uncaughtException', (err) => {
    failed = true
    log.fatal({ err }, 'uncaught exception in the primary: stopping gracefully')
    // the primary is in an unknown state: if the graceful stop cannot finish, exit anyway
    setTimeout(() => process.exit(1), opts.killTimeout + 5000).unref()
    supervisor.stop('primary uncaught exception').catch(() => {})
  })
  supervisor.once('stopped', () => {
    balancer?.close()
    const code = supervisor.crashLoop || supervisor.startupError !== undefined || failed || signals > 1 ? 1 : 0
    // set first: with no admin server listening, the loop may empty before close settles
    process.exitCode = code
    admin.close().finally(() => process.exit(code))
  })

  log.info({ workers: opts.workers, port: opts.port, host: opts.host, scheduling }, 'starting workers')
  if (balancer !== undefined) {
    // before the workers: a port in use fails the start here, and early connections wait for the first ready worker
    try {
      await balancer.listen(opts.port, opts.host)
    } catch (err) {
      log.fatal({ err, port: opts.port, host: opts.host }, 'sticky balancer could not listen')
      await admin.close()
      throw err
    }
  }
  await supervisor.start()
  const ready = supervisor.workers().filter((w) => w.state === 'ready').length
  if (ready === opts.workers) log.info({ workers: opts.workers, port: opts.port, host: opts.host }, 'all workers ready')
  else if (!supervisor.stopping) log.warn({ workers: opts.workers, ready }, 'started; some workers are still being respawned')
  return supervisor
}
