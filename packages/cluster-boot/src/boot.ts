import cluster from 'node:cluster'
import type { FastifyInstance } from 'fastify'
import { processTitle } from './process-title.js'
import { createAdmin, isLoopback } from './primary/admin.js'
import { createLogger } from './logger.js'
import { watchParent } from './cli/parent-watch.js'
import { appName } from './log-files.js'
import { LogCapture } from './primary/log-capture.js'
import { resolveOptions, type BootOptions, type Scheduling, type SchedulingOption } from './options.js'
import { StickyBalancer } from './primary/sticky-balancer.js'
import { Supervisor } from './primary/supervisor.js'
import type { WorkerRecord } from './primary/worker-record.js'
import { runWorker } from './worker/run-worker.js'

/** SO_REUSEPORT listening arrived in Node 22.12 and 23.1, on Linux. */
export function reusePortSupported (version = process.versions.node, platform = process.platform): boolean {
  const [major, minor] = version.split('.').map(Number)
  if (platform !== 'linux') return false
  return major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)
}

/**
 * What runs for a `scheduling` option here. 'auto' takes the primary out of
 * the accept path: with round-robin every new connection passes through the
 * primary and over IPC, which halves throughput when each request opens one
 * (bench/README.md, "Scheduling"). 'reuseport' needs Node >= 22.12 on Linux;
 * where it is missing, 'none' measured as fast.
 */
export function chooseScheduling (requested: SchedulingOption, supported = reusePortSupported()): Scheduling {
  if (requested === 'auto' || requested === 'reuseport') return supported ? 'reuseport' : 'none'
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
  }
  cluster.schedulingPolicy = scheduling === 'none' ? cluster.SCHED_NONE : cluster.SCHED_RR
  opts.env.CORRAL_SCHEDULING = scheduling

  const supervisor = new Supervisor(opts, log)
  supervisor.on('fork', (record: WorkerRecord) => {
    capture.attach(record.worker.process.stdout, record.slot, record.pid, 'stdout')
    capture.attach(record.worker.process.stderr, record.slot, record.pid, 'stderr')
  })
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
    const code = supervisor.crashLoop || supervisor.startupError !== undefined || failed || signals > 1 ? 1 : 0
    // set first: with no admin server listening, the loop may empty before close settles
    process.exitCode = code
    // the workers' last lines are still in their pipes, and the file has to be flushed
    admin.close().catch(() => {}).then(() => capture.close()).finally(() => process.exit(code))
  })

  const web = (host: string, port: number): string => `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  const url = web(opts.host, opts.port)
  const adminAddress = admin.server.address()
  const adminUrl = opts.admin === false ? undefined : web(opts.admin.host, typeof adminAddress === 'object' && adminAddress !== null ? adminAddress.port : opts.admin.port)
  // the one line a person starting the app reads first
  log.info({ url, adminUrl, pid: process.pid, workers: opts.workers, logs: opts.logs === false ? undefined : opts.logs.dir },
    `starting ${name}: app on ${url}, ${adminUrl === undefined ? 'no admin server' : `admin on ${adminUrl}`}, primary pid ${process.pid}, ${opts.workers} worker${opts.workers === 1 ? '' : 's'}${opts.logs === false ? '' : `, logs in ${opts.logs.dir}`}`)
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
