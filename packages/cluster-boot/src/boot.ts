import cluster from 'node:cluster'
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { httpUrl } from './http-url.js'
import { processTitle } from './process-title.js'
import { createAdmin, isLoopback } from './primary/admin.js'
import { PRIMARY_SEALED } from './ipc/control.js'
import { PrimaryModules } from './primary/primary-modules.js'
import { createLogger } from './logger.js'
import { watchParent } from './cli/parent-watch.js'
import { appName } from './log-files.js'
import { LogCapture } from './primary/log-capture.js'
import { resolveOptions, type BootOptions, type Scheduling, type SchedulingOption } from './options.js'
import { StickyBalancer } from './primary/sticky-balancer.js'
import { Supervisor } from './primary/supervisor.js'
import type { SupervisorView } from './primary/supervisor-view.js'
import type { WorkerRecord } from './primary/worker-record.js'
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
 * What `boot()` resolves with, in each process it runs in: the code after
 * `await boot()` runs in the primary and in every worker, so it narrows on
 * `role` before it touches either side.
 */
export type BootResult =
  /** in the primary, once every worker is ready (or being respawned) */
  | { role: 'primary', supervisor: SupervisorView }
  /** in a worker, once its app listens */
  | { role: 'worker', app: FastifyInstance }

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
 * it; resolves with `{ role: 'primary', supervisor }` once every worker is
 * ready. In a worker: builds, listens and resolves with `{ role: 'worker', app }`.
 */
export async function boot (options: BootOptions): Promise<BootResult> {
  const opts = resolveOptions(options)
  if (cluster.isWorker) return { role: 'worker', app: await runWorker(opts) }

  process.title = processTitle('primary')
  const name = appName()
  // the workers' stdout and stderr come to the primary, which tags, files and prints every line
  cluster.setupPrimary({ silent: true })
  const capture = new LogCapture({
    app: name,
    logs: opts.logs,
    out: process.stdout,
    onError: (err, where) => log.warn({ err, dir: opts.logs === false ? undefined : opts.logs.dir }, where === 'file' ? 'cannot write the log files: logging to stdout only' : 'stdout is closed: logging to the files only')
  })
  const log = createLogger(opts.logger, { role: 'primary', primaryPid: process.pid, app: name }, capture)
  const scheduling = chooseScheduling(opts.scheduling)
  if (opts.scheduling === 'reuseport' && scheduling !== 'reuseport') {
    log.warn({ node: process.versions.node, platform: process.platform }, "scheduling 'reuseport' needs Node >= 22.12 on Linux: using 'none'")
  } else if (scheduling === 'reuseport' && !reusePortMigrates()) {
    log.warn("scheduling 'reuseport' without sysctl net.ipv4.tcp_migrate_req=1: a reload resets the connections queued on a draining worker's socket")
  }
  cluster.schedulingPolicy = scheduling === 'none' ? cluster.SCHED_NONE : cluster.SCHED_RR
  opts.env.CORRAL_SCHEDULING = scheduling

  const supervisor = new Supervisor(opts, log)
  supervisor.on('fork', (record: WorkerRecord) => {
    capture.attach(record.worker.process.stdout, record.slot, record.pid, 'stdout')
    capture.attach(record.worker.process.stderr, record.slot, record.pid, 'stderr')
  })
  // sticky: the primary accepts and routes every connection itself; the workers listen on nothing public
  const balancer = scheduling === 'sticky' ? new StickyBalancer(supervisor, opts.workers, log, opts.sticky) : undefined
  const admin = createAdmin(supervisor, log, opts.admin)
  let adminFailed = false
  // the admin server readies once the first worker's primary modules are in (Fastify adds no route after ready)
  const modules = new PrimaryModules(admin, supervisor, log, async () => {
    try {
      if (opts.admin === false) {
        await admin.ready()
      } else {
        if (!isLoopback(opts.admin.host)) log.warn({ host: opts.admin.host }, 'admin server listens beyond loopback: every request must carry admin.token')
        await admin.listen({ port: opts.admin.port, host: opts.admin.host })
      }
      // workers forked from now on (respawns, reloads) need not ask: no round trip before they listen
      opts.env[PRIMARY_SEALED] = '1'
    } catch (err) {
      adminFailed = true
      log.fatal({ err, port: opts.admin === false ? undefined : opts.admin.port }, 'admin server could not start: stopping')
      supervisor.stop('admin server could not start').catch(() => {})
    }
  })
  if (opts.primary !== undefined) {
    await opts.primary(admin)
    // loaded now, so a worker asking for a module registered here by hand finds it (hasPlugin)
    await admin.after()
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
  // npm, pnpm and npx do not pass SIGTERM on: the cluster never outlives what started it
  if (process.env.CORRAL_PARENT_WATCH !== '0') {
    watchParent((launcher) => {
      log.warn({ launcher }, 'the process that started this app is gone: stopping')
      process.kill(process.pid, 'SIGTERM')
    })
  }
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
    const code = supervisor.crashLoop || supervisor.startupError !== undefined || adminFailed || failed || signals > 1 ? 1 : 0
    // set first: with no admin server listening, the loop may empty before close settles
    process.exitCode = code
    // the workers' last lines are still in their pipes, and the file has to be flushed
    modules.settled().then(() => admin.close()).catch(() => {}).then(() => capture.close()).finally(() => process.exit(code))
  })

  const url = httpUrl(opts.host, opts.port)
  // the admin server listens only once the first worker's primary modules are in: a free port (0) is not known yet
  const adminUrl = opts.admin === false || opts.admin.port === 0 ? undefined : httpUrl(opts.admin.host, opts.admin.port)
  const adminSaid = opts.admin === false ? 'no admin server' : adminUrl === undefined ? `admin on a free port of ${opts.admin.host}` : `admin on ${adminUrl}`
  // the one line a person starting the app reads first
  log.info({ url, adminUrl, pid: process.pid, workers: opts.workers, logs: opts.logs === false ? undefined : opts.logs.dir },
    `starting ${name}: app on ${url}, ${adminSaid}, primary pid ${process.pid}, ${opts.workers} worker${opts.workers === 1 ? '' : 's'}${opts.logs === false ? '' : `, logs in ${opts.logs.dir}`}`)
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
  // no worker got as far as ready (they are being respawned): the admin server still serves /supervisor
  if (!supervisor.stopping) await modules.seal('start-up done')
  const ready = supervisor.workers().filter((w) => w.state === 'ready').length
  if (ready === opts.workers) log.info({ workers: opts.workers, port: opts.port, host: opts.host }, 'all workers ready')
  else if (!supervisor.stopping) log.warn({ workers: opts.workers, ready }, 'started; some workers are still being respawned')
  return { role: 'primary', supervisor }
}
