import { spawn } from 'node:child_process'
import cluster from 'node:cluster'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { boot } from '../boot.js'
import { ConfigNotFoundError, InvalidOptionError } from '../errors.js'
import { httpUrl } from '../http-url.js'
import { resolveOptions, type AppFactory, type BootOptions, type PrimarySetup, type SchedulingOption } from '../options.js'
import { findConfig, isConfigFile, loadConfig, type AppConfig } from './config.js'
import { watchParent } from './parent-watch.js'
import type { Command, StartFlags } from './parse.js'
import { appsDir, register } from './registry.js'
import { typeScriptExecArgv } from './typescript.js'

export type StartCommand = Extract<Command, { command: 'start' }>

export const base = (): string => process.env.CORRAL_CLI_CWD ?? process.cwd()

const say = (line: string): void => { process.stderr.write(`corral: ${line}\n`) }

async function loadFactory (file: string): Promise<AppFactory> {
  const mod = await import(pathToFileURL(file).href) as { default?: unknown, app?: unknown }
  const factory = typeof mod.default === 'function' ? mod.default : mod.app
  if (typeof factory !== 'function') throw new TypeError(`${file} must export a function (default or "app") that returns a Fastify instance`)
  return factory as AppFactory
}

export function overrides (flags: StartFlags): Omit<BootOptions, 'app'> {
  const number = (v: string | undefined): number | undefined => v === undefined ? undefined : Number(v)
  const options: Omit<BootOptions, 'app'> = {
    workers: flags.instances,
    port: flags.port,
    host: flags.host,
    maxMemory: flags.maxMemory,
    killTimeout: number(flags.killTimeout),
    readyTimeout: number(flags.readyTimeout),
    maxRestarts: number(flags.maxRestarts),
    restartDelay: number(flags.restartDelay),
    scheduling: flags.scheduling as SchedulingOption | undefined,
    admin: flags.adminPort === undefined ? undefined : { port: Number(flags.adminPort) }
  }
  for (const key of Object.keys(options) as Array<keyof typeof options>) if (options[key] === undefined) delete options[key]
  return options
}

/** Which apps to run: an entry module, or the apps of a config file. */
export async function apps (cmd: StartCommand): Promise<AppConfig[]> {
  if (cmd.file !== undefined && cmd.config === undefined && !isConfigFile(cmd.file)) {
    const name = cmd.name ?? path.basename(cmd.file).replace(/\.[cm]?[jt]s$/, '')
    return [{ name, entry: cmd.file, cwd: base(), options: {} }]
  }
  const file = cmd.config ?? cmd.file ?? findConfig(base())
  if (file === undefined) throw new ConfigNotFoundError(base())
  const config = await loadConfig(file, cmd.profile)
  if (config.ignored.length > 0 && cluster.isPrimary) say(`${file}: ignoring PM2 keys Corral does not support: ${config.ignored.join(', ')}`)
  let list = config.apps
  if (cmd.only !== undefined) {
    list = list.filter((a) => a.name === cmd.only)
    if (list.length === 0) throw new InvalidOptionError('--only', `the name of an app in ${file} (${config.apps.map((a) => a.name).join(', ')})`, JSON.stringify(cmd.only))
  }
  if (cmd.name !== undefined && list.length === 1) list[0].name = cmd.name
  return list
}

export async function start (cmd: StartCommand): Promise<void> {
  const list = await apps(cmd)
  if (list.length > 1 && cluster.isPrimary) return launch(cmd, list)
  const [app] = list
  const flags = overrides(cmd.flags)
  // --admin-port moves the file's admin server, keeping its host and token
  const fileAdmin = app.options.admin
  if (flags.admin !== undefined && flags.admin !== false && typeof fileAdmin === 'object' && fileAdmin !== null) flags.admin = { ...fileAdmin, port: flags.admin.port }
  const options: BootOptions = { ...app.options, ...flags, app: async (worker) => (await loadFactory(app.entry))(worker) }
  if (cluster.isPrimary) {
    // no admin port given: one on a free loopback port anyway, so `corral list` and the other verbs
    // reach the app; its token is generated and readable only through the owner-only registry file
    let generated: string | undefined
    if (options.admin === undefined) {
      if (process.env.CORRAL_ADMIN_TOKEN === undefined || process.env.CORRAL_ADMIN_TOKEN === '') generated = randomBytes(24).toString('base64url')
      options.admin = { port: 0, ...(generated === undefined ? {} : { token: generated }) }
    }
    options.primary = registerOnListen(app.name, generated, options.primary)
    // checked before anything changes (title, cwd); boot() checks them again and throws the same error
    resolveOptions(options)
    const execArgv = typeScriptExecArgv(app.entry)
    process.env.CORRAL_NAME = app.name
    // workers run this CLI again with the same arguments: their relative paths mean the directory we started in
    process.env.CORRAL_CLI_CWD ??= process.cwd()
    if (app.cwd !== process.cwd()) process.chdir(app.cwd)
    if (execArgv.length > 0) cluster.setupPrimary({ execArgv: [...process.execArgv, ...execArgv] })
    // boot() says where the app, its admin server and its logs are, and the primary's pid, in its first line
    // boot() watches the processes that started it (npm, pnpm, npx), unless told not to
    if (!cmd.watchParent) process.env.CORRAL_PARENT_WATCH = '0'
  }
  await boot(options)
}

/** Once the admin server listens, the app is registered for the control verbs (and unregistered when the primary exits). */
function registerOnListen (name: string, token: string | undefined, primary: PrimarySetup | undefined): PrimarySetup {
  return async (admin) => {
    admin.addHook('onListen', async () => {
      const { address, port } = admin.server.address() as AddressInfo
      // a wildcard address is reached on loopback
      const host = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address
      const url = httpUrl(host, port)
      if (token !== undefined) say(`admin on ${url} (token in ${appsDir()})`)
      try {
        register({ name, pid: process.pid, admin: url, ...(token === undefined ? {} : { token }), cwd: process.cwd(), startedAt: Date.now() })
      } catch (err) {
        say(`could not register ${name} for corral list (${(err as Error).message}): use --admin-port`)
      }
    })
    await primary?.(admin)
  }
}

/**
 * Several apps in one file: one primary per app, each a `corral start
 * --only <name>` child of this process. Signals are passed on; this
 * process exits when every app has, with the worst exit code.
 */
function launch (cmd: StartCommand, list: AppConfig[]): Promise<void> {
  const file = cmd.config ?? cmd.file ?? findConfig(base())
  say(`starting ${list.length} apps from ${file}, one primary each: ${list.map((a) => a.name).join(', ')} (launcher pid ${process.pid})`)
  const script = process.argv[1]
  const children = list.map((app) => spawn(process.execPath, [
    ...process.execArgv, script, 'start', '-c', String(file), '--only', app.name,
    ...(cmd.profile === undefined ? [] : ['--env', cmd.profile])
  ], { stdio: 'inherit' }))
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => { for (const c of children) if (c.exitCode === null) c.kill(signal) })
  }
  if (cmd.watchParent) watchParent(() => { for (const c of children) if (c.exitCode === null) c.kill('SIGTERM') })
  let worst = 0
  return new Promise(() => {
    let left = children.length
    for (const child of children) {
      child.on('exit', (code) => {
        worst = Math.max(worst, code ?? 1)
        if (--left === 0) process.exit(worst)
      })
    }
  })
}
