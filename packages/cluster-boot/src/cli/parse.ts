import path from 'node:path'
import { parseArgs } from 'node:util'
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

export type Command =
  | {
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
  | { command: 'list' | 'describe' | 'reload' | 'stop', admin: AdminTarget, json: boolean }
  | LogsCommand
  | { command: 'help', exitCode: number }
  | { command: 'unknown', name: string }

export interface AdminTarget {
  url: string
  token: string | undefined
  /** `corral reload api`: the app the admin server must belong to, so a wrong port does not hit another app */
  name?: string
}

const CONTROL: Record<string, 'list' | 'describe' | 'reload' | 'stop'> = {
  list: 'list',
  ls: 'list',
  status: 'list',
  describe: 'describe',
  show: 'describe',
  reload: 'reload',
  restart: 'reload',
  stop: 'stop'
}

function nonEmpty (value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

/** Throws (a TypeError from parseArgs) on an unknown flag: the caller prints it with the usage and exits 2. */
export function parseCli (argv: string[], env: NodeJS.ProcessEnv = process.env): Command {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
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
      // corral logs
      lines: { type: 'string' },
      slot: { type: 'string' },
      dir: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  const [verb, ...rest] = positionals
  if (values.help === true) return { command: 'help', exitCode: 0 }
  if (verb === undefined || verb === 'help') return { command: 'help', exitCode: verb === undefined ? 2 : 0 }

  if (verb === 'start') {
    // a worker runs the CLI again from the app's cwd: CORRAL_CLI_CWD is where the command was typed
    const base = nonEmpty(env.CORRAL_CLI_CWD) ?? process.cwd()
    return {
      command: 'start',
      file: rest[0] === undefined ? undefined : path.resolve(base, rest[0]),
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

  // corral logs: reads the app's log files, no admin server needed
  if (verb === 'logs') return parseLogs(rest, values, env)

  const control = CONTROL[verb]
  if (control === undefined) return { command: 'unknown', name: verb }
  const port = values['admin-port'] ?? nonEmpty(env.ADMIN_PORT)
  if (port === undefined || !/^\d+$/.test(port)) {
    throw new TypeError(`corral ${verb}: give the admin server's port with --admin-port <port> or env ADMIN_PORT${port === undefined ? '' : ` (got ${JSON.stringify(port)})`}`)
  }
  // --host stays accepted for reload, as before --admin-host existed
  const host = values['admin-host'] ?? values.host ?? '127.0.0.1'
  return {
    command: control,
    admin: {
      url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      token: values.token ?? nonEmpty(env.CORRAL_ADMIN_TOKEN),
      ...(rest[0] === undefined ? {} : { name: rest[0] })
    },
    json: values.json === true
  }
}
