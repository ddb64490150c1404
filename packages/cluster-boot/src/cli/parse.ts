import path from 'node:path'
import { parseArgs } from 'node:util'
import { httpUrl } from '../http-url.js'
import { parseLogs, type LogsCommand } from './logs.js'

/** Flags of `corral start` that override the config file's values. */
export interface StartFlags {
  instances?: string
  port?: string
  host?: string
  maxMemory?: string
  killTimeout?: string
  readyTimeout?: string
  maxRestarts?: string
  restartDelay?: string
  scheduling?: string
  adminPort?: string
}

type StartCommand = {
  command: 'start'
  /** an entry module, a config file, or undefined: look for corral.config.* / ecosystem.config.* in cwd */
  file: string | undefined
  config: string | undefined
  profile: string | undefined
  name: string | undefined
  /** start only this app of a config file with several */
  only: string | undefined
  watchParent: boolean
  flags: StartFlags
}

/** Verbs that talk to running apps. */
export type ControlVerb = 'list' | 'describe' | 'reload' | 'stop' | 'scale' | 'monit'

export type Command =
  | StartCommand
  | {
    command: ControlVerb
    select: Selection
    json: boolean
    /** scale: n, +n, -n or max */
    count?: string
    /** monit: ms between refreshes */
    interval?: number
  }
  | { command: 'startup', platform: 'systemd', start: StartCommand }
  | LogsCommand
  | { command: 'help', exitCode: number }
  | { command: 'unknown', name: string }

/** Which running app(s) a control verb means: an admin server given by port, else the apps the CLI started (by name). */
export interface Selection {
  /** from --admin-port / ADMIN_PORT: this admin server only */
  url?: string
  /** --token or CORRAL_ADMIN_TOKEN */
  token?: string
  /** `corral reload api` */
  name?: string
}

export interface AdminTarget {
  url: string
  token: string | undefined
  /** `corral reload api`: the app the admin server must belong to, so a wrong port does not hit another app */
  name?: string
}

const CONTROL: Record<string, ControlVerb> = {
  list: 'list',
  ls: 'list',
  status: 'list',
  describe: 'describe',
  show: 'describe',
  reload: 'reload',
  restart: 'reload',
  stop: 'stop',
  scale: 'scale',
  monit: 'monit'
}

const COUNT = /^([+-]?\d+|max)$/

const OPTIONS = {
  instances: { type: 'string', short: 'i' },
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  'max-memory': { type: 'string' },
  'kill-timeout': { type: 'string' },
  'ready-timeout': { type: 'string' },
  'max-restarts': { type: 'string' },
  'restart-delay': { type: 'string' },
  scheduling: { type: 'string' },
  'admin-port': { type: 'string' },
  'admin-host': { type: 'string' },
  token: { type: 'string' },
  config: { type: 'string', short: 'c' },
  env: { type: 'string' },
  name: { type: 'string', short: 'n' },
  only: { type: 'string' },
  'no-parent-watch': { type: 'boolean' },
  json: { type: 'boolean' },
  interval: { type: 'string' },
  // corral logs
  lines: { type: 'string' },
  slot: { type: 'string' },
  dir: { type: 'string' },
  help: { type: 'boolean', short: 'h' }
} as const

function nonEmpty (value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

/** Throws (a TypeError from parseArgs) on an unknown flag: the caller prints it with the usage and exits 2. */
export function parseCli (argv: string[], env: NodeJS.ProcessEnv = process.env): Command {
  // `corral scale api -1`: a negative count is not a flag
  const negative = argv.includes('scale') && !argv.includes('--') ? argv.filter((a) => /^-\d+$/.test(a)) : []
  const { values, positionals } = parseArgs({
    args: negative.length === 0 ? argv : [...argv.filter((a) => !negative.includes(a)), '--', ...negative],
    allowPositionals: true,
    options: OPTIONS
  })
  const [verb, ...rest] = positionals
  if (values.help === true) return { command: 'help', exitCode: 0 }
  if (verb === undefined || verb === 'help') return { command: 'help', exitCode: verb === undefined ? 2 : 0 }

  if (verb === 'start') return startCommand(rest[0], values, env)
  if (verb === 'startup') {
    if (rest[0] !== 'systemd') throw new TypeError(`corral startup: say which init system: corral startup systemd [<app or config>] [start options]${rest[0] === undefined ? '' : ` (got ${JSON.stringify(rest[0])}: only systemd is supported)`}`)
    return { command: 'startup', platform: 'systemd', start: startCommand(rest[1], values, env) }
  }

  // corral logs: reads the app's log files, no admin server needed
  if (verb === 'logs') return parseLogs(rest, values, env)

  const control = CONTROL[verb]
  if (control === undefined) return { command: 'unknown', name: verb }
  const port = values['admin-port'] ?? nonEmpty(env.ADMIN_PORT)
  if (port !== undefined && !/^\d+$/.test(port)) {
    throw new TypeError(`corral ${verb}: --admin-port (or env ADMIN_PORT) must be a port number (got ${JSON.stringify(port)})`)
  }
  let [name, count] = rest
  if (control === 'scale') {
    // `corral scale 3` with --admin-port or a single app running: no name
    if (count === undefined && name !== undefined && COUNT.test(name)) [name, count] = [undefined as unknown as string, name]
    if (count === undefined || !COUNT.test(count)) throw new TypeError(`corral scale: give the worker count: corral scale <name> <n|+n|-n|max>${count === undefined ? '' : ` (got ${JSON.stringify(count)})`}`)
  }
  let interval: number | undefined
  if (values.interval !== undefined) {
    interval = Number(values.interval)
    if (!Number.isInteger(interval) || interval < 100) throw new TypeError(`corral ${verb}: --interval is in ms, at least 100 (got ${JSON.stringify(values.interval)})`)
  }
  // --host stays accepted for reload, as before --admin-host existed
  const host = values['admin-host'] ?? values.host ?? '127.0.0.1'
  const select: Selection = {}
  if (port !== undefined) select.url = httpUrl(host, port)
  const token = values.token ?? nonEmpty(env.CORRAL_ADMIN_TOKEN)
  if (token !== undefined) select.token = token
  if (name !== undefined) select.name = name
  return {
    command: control,
    select,
    json: values.json === true,
    ...(count === undefined ? {} : { count }),
    ...(interval === undefined ? {} : { interval })
  }
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS, allowPositionals: true }>>['values']

function startCommand (file: string | undefined, values: Values, env: NodeJS.ProcessEnv): StartCommand {
  // a worker runs the CLI again from the app's cwd: CORRAL_CLI_CWD is where the command was typed
  const base = nonEmpty(env.CORRAL_CLI_CWD) ?? process.cwd()
  return {
    command: 'start',
    file: file === undefined ? undefined : path.resolve(base, file),
    config: values.config === undefined ? undefined : path.resolve(base, values.config),
    profile: values.env,
    name: values.name,
    only: values.only,
    watchParent: values['no-parent-watch'] !== true,
    flags: {
      instances: values.instances,
      port: values.port,
      host: values.host,
      maxMemory: values['max-memory'],
      killTimeout: values['kill-timeout'],
      readyTimeout: values['ready-timeout'],
      maxRestarts: values['max-restarts'],
      restartDelay: values['restart-delay'],
      scheduling: values.scheduling,
      adminPort: values['admin-port'] ?? nonEmpty(env.ADMIN_PORT)
    }
  }
}
