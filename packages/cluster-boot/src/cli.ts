#!/usr/bin/env node
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { boot } from './boot.js'
import type { AppFactory, BootOptions, Scheduling } from './options.js'

const USAGE = `Usage: corral start <app.js> [options]
       corral reload --admin-port <port> [--host <host>] [--token <token>]

The module's default export (or its export "app") is a function that returns
a Fastify instance. One worker per slot serves it on a shared port.

Options:
  -i, --instances <n|max>   workers (default: env WORKERS, else max)
  -p, --port <port>         port (default: env PORT, else 3000)
      --host <host>         interface (default: env HOST, else 127.0.0.1)
      --max-memory <size>   replace a worker above this RSS, e.g. 512M
      --kill-timeout <ms>   drain time before SIGKILL (default 10000)
      --ready-timeout <ms>  time to become ready (default 15000)
      --max-restarts <n>    crashes in a row (or within a minute) before giving up (default 10)
      --restart-delay <ms>  first respawn delay, doubled per crash in a row (default 100)
      --scheduling <mode>   rr | none | reuseport | sticky (default rr)
      --admin-port <port>   the primary's admin server (POST /reload)
      --token <token>       reload: the admin server's bearer token (default: env CORRAL_ADMIN_TOKEN)
  -h, --help

\`corral reload\` asks a running primary's admin server for a rolling reload
and exits 0 when every worker was replaced; it sends the admin token from
--token or CORRAL_ADMIN_TOKEN (prefer the variable: arguments show in ps);
\`corral start\` takes its admin token from CORRAL_ADMIN_TOKEN. Signals to
the primary do the same: SIGHUP reloads with zero downtime, SIGTERM/SIGINT
stop.`

type Command =
  | { command: 'start', file: string, options: Omit<BootOptions, 'app'> }
  | { command: 'reload', url: string, token: string | undefined }
  | { help: true }

export function parseCli (argv: string[]): Command {
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
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) return { help: true }
  if (positionals[0] === 'reload' && values['admin-port'] !== undefined) {
    const host = values.host ?? '127.0.0.1'
    const token = values.token ?? (process.env.CORRAL_ADMIN_TOKEN === '' ? undefined : process.env.CORRAL_ADMIN_TOKEN)
    return { command: 'reload', url: `http://${host.includes(':') ? `[${host}]` : host}:${values['admin-port']}/reload`, token }
  }
  if (positionals[0] !== 'start' || positionals[1] === undefined) return { help: true }
  const number = (v: string | undefined): number | undefined => v === undefined ? undefined : Number(v)
  return {
    command: 'start',
    file: path.resolve(positionals[1]),
    options: {
      workers: values.instances,
      port: values.port,
      host: values.host,
      maxMemory: values['max-memory'],
      killTimeout: number(values['kill-timeout']),
      readyTimeout: number(values['ready-timeout']),
      maxRestarts: number(values['max-restarts']),
      restartDelay: number(values['restart-delay']),
      scheduling: values.scheduling as Scheduling | undefined,
      admin: values['admin-port'] === undefined ? false : { port: Number(values['admin-port']) }
    }
  }
}

async function loadFactory (file: string): Promise<AppFactory> {
  const mod = await import(pathToFileURL(file).href) as { default?: unknown, app?: unknown }
  const factory = typeof mod.default === 'function' ? mod.default : mod.app
  if (typeof factory !== 'function') throw new TypeError(`${file} must export a function (default or "app") that returns a Fastify instance`)
  return factory as AppFactory
}

async function reload (url: string, token: string | undefined): Promise<void> {
  // the admin server refuses a mutating request without this header: a web page cannot send it
  const headers: Record<string, string> = { 'x-corral-admin': '1' }
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  try {
    const res = await fetch(url, { method: 'POST', headers })
    const body = await res.text()
    process.stdout.write(`${body}\n`)
    process.exit(res.ok ? 0 : 1)
  } catch (err) {
    process.stderr.write(`corral: cannot reach the admin server at ${url}: ${(err as Error).message}\n`)
    process.exit(1)
  }
}

async function main (): Promise<void> {
  let parsed: ReturnType<typeof parseCli>
  try {
    parsed = parseCli(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`)
    process.exit(2)
  }
  if ('help' in parsed) {
    process.stdout.write(`${USAGE}\n`)
    process.exit(process.argv.includes('-h') || process.argv.includes('--help') ? 0 : 2)
  }
  if (parsed.command === 'reload') return reload(parsed.url, parsed.token)
  const { file, options } = parsed
  try {
    await boot({ ...options, app: async (worker) => (await loadFactory(file))(worker) })
  } catch (err) {
    process.stderr.write(`corral: ${(err as Error).message}\n`)
    process.exit(1)
  }
}

main()
