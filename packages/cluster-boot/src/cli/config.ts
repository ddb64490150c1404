import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { InvalidOptionError } from '../errors.js'
import type { InvalidOption } from '../option-checks.js'
import { resolveOptions, type BootOptions, type SchedulingOption } from '../options.js'

/** One app of a config file, ready for `boot()`. */
export interface AppConfig {
  name: string
  /** absolute path of the module whose default export builds the app */
  entry: string
  /** the primary's working directory */
  cwd: string
  options: Omit<BootOptions, 'app'>
}

export interface LoadedConfig {
  file: string
  apps: AppConfig[]
  /** PM2 keys Corral does not use, to name in one warning */
  ignored: string[]
}

/** Looked for in this order in the working directory by a bare `corral start`. */
export const CONFIG_NAMES = ['corral.config.js', 'corral.config.mjs', 'corral.config.cjs', 'corral.config.json', 'ecosystem.config.js', 'ecosystem.config.cjs']

export function isConfigFile (file: string): boolean {
  return /(^|[/\\])(corral|ecosystem)\.config\.(c|m)?js$/.test(file) || file.endsWith('.json')
}

export function findConfig (dir: string): string | undefined {
  for (const name of CONFIG_NAMES) {
    const file = path.join(dir, name)
    if (existsSync(file)) return file
  }
  return undefined
}

// corral key → how the config file spells it (boot() calls `instances` "workers")
const CORRAL_KEYS = new Set(['name', 'entry', 'script', 'cwd', 'instances', 'port', 'host', 'env', 'maxMemory', 'killTimeout', 'readyTimeout', 'maxRestarts', 'restartDelay', 'maxRestartDelay', 'minUptime', 'scheduling', 'statsInterval', 'hangTimeout', 'idleCloseDelay', 'admin', 'adminPort', 'logs'])
// PM2 key → Corral key
const PM2_KEYS: Record<string, string> = {
  name: 'name',
  script: 'entry',
  cwd: 'cwd',
  instances: 'instances',
  env: 'env',
  max_memory_restart: 'maxMemory',
  kill_timeout: 'killTimeout',
  listen_timeout: 'readyTimeout',
  max_restarts: 'maxRestarts',
  restart_delay: 'restartDelay',
  min_uptime: 'minUptime'
}
// PM2 keys that mean nothing here but are harmless: no warning
const PM2_SILENT = new Set(['exec_mode', 'wait_ready', 'autorestart', 'shutdown_with_message'])

const BOOT_TO_KEY: Record<string, string> = { workers: 'instances', 'admin.port': 'admin.port' }

/** The "type" of the package.json nearest to `dir`, as Node reads it for a .js file. */
function packageType (dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    const json = path.join(d, 'package.json')
    if (existsSync(json)) {
      try { return (JSON.parse(readFileSync(json, 'utf8')) as { type?: string }).type } catch { return undefined }
    }
    if (path.dirname(d) === d) return undefined
  }
}

async function readModule (file: string, pm2: boolean): Promise<unknown> {
  if (file.endsWith('.json')) return JSON.parse(readFileSync(file, 'utf8'))
  try {
    // PM2 ecosystem files are CommonJS (module.exports = { apps }); require() of a file Node
    // takes for ESM can hang under loader hooks (Node 20), so only a CommonJS file is required
    if (file.endsWith('.cjs') || (pm2 && file.endsWith('.js') && packageType(path.dirname(file)) !== 'module')) {
      return createRequire(file)(file)
    }
    const mod = await import(pathToFileURL(file).href) as { default?: unknown }
    return mod.default ?? mod
  } catch (err) {
    if (err instanceof ReferenceError && /\b(module|exports|require) is not defined/.test(err.message)) {
      throw new Error(`${file} uses CommonJS (module.exports) inside an ES module package: rename it ${path.basename(file).replace(/\.js$/, '.cjs')}`)
    }
    throw err
  }
}

function invalid (file: string, key: string, expected: string, got: unknown): never {
  const err = new InvalidOptionError(key, expected, typeof got === 'string' ? JSON.stringify(got) : JSON.stringify(got) ?? String(got))
  err.message = err.message.replace(/option "[^"]*"/, `option "${key}" in ${file}`)
  throw err
}

function toEnv (file: string, key: string, value: unknown): Record<string, string> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) invalid(file, key, 'an object of strings', value)
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined || typeof v === 'object') invalid(file, `${key}.${k}`, 'a string, number or boolean', v)
    env[k] = String(v)
  }
  return env
}

/**
 * Reads a Corral or PM2 config file into apps. Every value goes through
 * the same checks as `boot()` options; an error names the key and the file.
 */
export async function loadConfig (file: string, profile: string | undefined): Promise<LoadedConfig> {
  const pm2 = /(^|[/\\])ecosystem\.config\.c?js$/.test(file) || (file.endsWith('.json') && /ecosystem/.test(path.basename(file)))
  const raw = await readModule(file, pm2)
  const list = raw !== null && typeof raw === 'object' && 'apps' in raw ? (raw as { apps: unknown }).apps : raw
  const apps = Array.isArray(list) ? list : [list]
  if (apps.length === 0) invalid(file, 'apps', 'at least one app', list)
  if (profile !== undefined && !apps.some((a) => a !== null && typeof a === 'object' && `env_${profile}` in a)) {
    // a profile no app knows is a typo worth failing on: production without its settings is a bad surprise
    invalid(file, `env_${profile}`, `an env_${profile} block in at least one app for --env ${profile}`, undefined)
  }
  const ignored = new Set<string>()
  const dir = path.dirname(file)
  const listed = Array.isArray(list)
  const result = apps.map((app, i) => readApp(file, dir, pm2, app, i, listed ? `apps[${i}].` : '', profile, ignored))
  const names = new Set<string>()
  for (const [i, app] of result.entries()) {
    if (names.has(app.name)) invalid(file, `apps[${i}].name`, 'a name no other app of the file has', app.name)
    names.add(app.name)
  }
  return { file, apps: result, ignored: [...ignored] }
}

function readApp (file: string, dir: string, pm2: boolean, app: unknown, index: number, prefix: string, profile: string | undefined, ignored: Set<string>): AppConfig {
  if (app === null || typeof app !== 'object' || Array.isArray(app)) invalid(file, prefix === '' ? 'apps' : `apps[${index}]`, 'an object', app)
  const src = app as Record<string, unknown>
  // Corral key → { value, the key as written }
  const values: Record<string, { value: unknown, key: string }> = {}
  for (const [key, value] of Object.entries(src)) {
    if (key.startsWith('env_')) continue
    if (CORRAL_KEYS.has(key) && !(pm2 && key in PM2_KEYS)) {
      values[key === 'script' ? 'entry' : key] = { value, key }
    } else if (pm2 && key in PM2_KEYS) {
      values[PM2_KEYS[key]] = { value, key }
    } else if (pm2) {
      if (!PM2_SILENT.has(key)) ignored.add(key)
    } else {
      invalid(file, `${prefix}${key}`, `one of ${[...CORRAL_KEYS].join(', ')} or env_<profile>`, key)
    }
  }
  const profileKey = profile === undefined ? undefined : `env_${profile}`
  const env = { ...toEnv(file, `${prefix}env`, values.env?.value), ...(profileKey === undefined ? {} : toEnv(file, `${prefix}${profileKey}`, src[profileKey])) }

  const name = values.name?.value ?? (values.entry === undefined ? 'app' : path.basename(String(values.entry.value)).replace(/\.[cm]?[jt]s$/, ''))
  if (typeof name !== 'string' || !/^[\w.-]+$/.test(name)) invalid(file, `${prefix}${values.name?.key ?? 'name'}`, 'a name of letters, digits, ".", "_" or "-"', name)
  const entry = values.entry?.value
  if (typeof entry !== 'string' || entry === '') invalid(file, `${prefix}${values.entry?.key ?? (pm2 ? 'script' : 'entry')}`, 'the path of the app module', entry)
  const cwdValue = values.cwd?.value ?? '.'
  if (typeof cwdValue !== 'string') invalid(file, `${prefix}${values.cwd?.key ?? 'cwd'}`, 'a directory path', cwdValue)
  const cwd = path.resolve(dir, cwdValue)

  let instances = values.instances?.value
  // PM2: 0 and -1 mean "one per core" (-1: one less, which Corral does not do)
  if (pm2 && (instances === 0 || instances === -1 || instances === '0' || instances === '-1')) instances = 'max'
  const v = (k: string): unknown => values[k]?.value
  let admin = v('admin') as BootOptions['admin']
  if (v('adminPort') !== undefined && admin === undefined) admin = { port: v('adminPort') as number }
  const options: Omit<BootOptions, 'app'> = {
    workers: instances as BootOptions['workers'],
    port: (v('port') ?? env.PORT) as BootOptions['port'],
    host: (v('host') ?? env.HOST) as string | undefined,
    maxMemory: v('maxMemory') as BootOptions['maxMemory'],
    killTimeout: v('killTimeout') as number | undefined,
    readyTimeout: v('readyTimeout') as number | undefined,
    maxRestarts: v('maxRestarts') as number | undefined,
    restartDelay: v('restartDelay') as number | undefined,
    maxRestartDelay: v('maxRestartDelay') as number | undefined,
    minUptime: v('minUptime') as number | undefined,
    scheduling: v('scheduling') as SchedulingOption | undefined,
    statsInterval: v('statsInterval') as number | undefined,
    hangTimeout: v('hangTimeout') as number | undefined,
    idleCloseDelay: v('idleCloseDelay') as number | undefined,
    admin,
    env,
    logs: v('logs') as BootOptions['logs']
  }
  for (const key of Object.keys(options) as Array<keyof typeof options>) if (options[key] === undefined) delete options[key]
  checkOptions(file, prefix, options, values)
  return { name, entry: path.resolve(cwd, entry), cwd, options }
}

/** boot()'s own checks, with the key renamed to how the file spells it. */
export function checkOptions (file: string, prefix: string, options: Omit<BootOptions, 'app'>, values: Record<string, { key: string }> = {}): void {
  try {
    resolveOptions({ ...options, app: () => { throw new Error('not called') } }, {})
  } catch (err) {
    const { option: bootKey, expected, got } = err as Partial<InvalidOption>
    if (bootKey === undefined || expected === undefined || got === undefined) throw err
    const corralKey = BOOT_TO_KEY[bootKey] ?? bootKey
    const [head, ...tail] = corralKey.split('.')
    const written = values[head]?.key ?? (bootKey === 'admin.port' && values.adminPort !== undefined ? 'adminPort' : head)
    const key = `${prefix}${[written, ...(written === 'adminPort' ? [] : tail)].join('.')}`
    const e = new InvalidOptionError(key, expected, got)
    e.message = e.message.replace(/option "[^"]*"/, `option "${key}" in ${file}`)
    throw e
  }
}
