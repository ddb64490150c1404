import type { WorkerStats } from '../primary/worker-record.js'

/** The bus namespace cluster-boot itself uses between the primary and its workers. */
export const CONTROL = 'corral.boot'

/** Why a worker could not start, in words a person can act on. */
export interface StartupFailure {
  message: string
  code?: string
}

export type ControlMessage =
  | { event: 'ready' }
  | { event: 'stats', stats: WorkerStats }
  | { event: 'drain', reason: string }
  | { event: 'exiting' }
  | { event: 'failed', error: StartupFailure }

export function isControlMessage (data: unknown): data is ControlMessage {
  if (data === null || typeof data !== 'object') return false
  const event = (data as { event?: unknown }).event
  if (event === 'stats') {
    const stats = (data as { stats?: Record<string, unknown> }).stats
    return stats !== null && typeof stats === 'object' && typeof stats.rss === 'number'
  }
  if (event === 'failed') {
    const error = (data as { error?: Record<string, unknown> }).error
    return error !== null && typeof error === 'object' && typeof error.message === 'string' &&
      (error.code === undefined || typeof error.code === 'string')
  }
  return event === 'ready' || event === 'drain' || event === 'exiting'
}

/**
 * The namespace of a worker's requests about primary modules
 * (`worker.usePrimary`): `use` asks the primary to load one, `seal` says the
 * worker is about to count as ready, so the admin server must be up.
 */
export const PRIMARY_MODULES = 'corral.boot.primary'

/** Set in the environment of workers forked once the admin server is up: they skip the `seal` request. */
export const PRIMARY_SEALED = 'CORRAL_PRIMARY_SEALED'

/** JSON, and only plain JSON: what a primary module's options may be. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }
export type JsonObject = { [key: string]: JsonValue }

export type PrimaryModuleRequest =
  | { op: 'use', module: string, options: JsonObject }
  | { op: 'seal' }

export interface PrimaryModuleReply {
  /** the module's plugin is on the admin instance (loaded now, before, or registered by hand) */
  loaded: boolean
  /** why not, in words for a log */
  reason?: string
}

const MAX_MODULE_URL = 2048
const MAX_OPTIONS_BYTES = 64 * 1024
const MAX_OPTIONS_DEPTH = 16
// keys that would reach an object's prototype once a plugin spreads or merges its options
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/** Why `module` cannot name a primary module (a `file:` URL of a .js/.mjs file, nothing more), or undefined. */
export function primaryModuleProblem (module: unknown): string | undefined {
  if (typeof module !== 'string') return 'the module must be a file: URL string'
  if (module.length > MAX_MODULE_URL) return `the module URL is longer than ${MAX_MODULE_URL} characters`
  let url: URL
  try { url = new URL(module) } catch { return 'the module must be an absolute file: URL (e.g. new URL(\'./primary.js\', import.meta.url))' }
  if (url.protocol !== 'file:') return `the module must be a file: URL, not ${url.protocol}`
  if (url.search !== '' || url.hash !== '' || url.host !== '') return 'the module URL must be a plain file path (no host, query or hash)'
  if (!/\.m?js$/.test(url.pathname)) return 'the module must be a .js or .mjs file'
  return undefined
}

/** Why `options` is not a plain JSON object within bounds, or undefined. */
export function jsonOptionsProblem (options: unknown): string | undefined {
  if (!isPlainObject(options)) return 'the options must be a plain object'
  const problem = jsonProblem(options, 0)
  if (problem !== undefined) return problem
  if (JSON.stringify(options).length > MAX_OPTIONS_BYTES) return `the options are larger than ${MAX_OPTIONS_BYTES} bytes of JSON`
  return undefined
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function jsonProblem (value: unknown, depth: number): string | undefined {
  if (depth > MAX_OPTIONS_DEPTH) return `the options nest deeper than ${MAX_OPTIONS_DEPTH} levels`
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return undefined
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'the options hold a number that is not finite'
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = jsonProblem(item, depth + 1)
      if (problem !== undefined) return problem
    }
    return undefined
  }
  if (!isPlainObject(value)) return `the options hold ${typeof value === 'object' ? 'an object that is not plain JSON' : `a ${typeof value}`}`
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) return `the options hold the key "${key}"`
    const problem = jsonProblem(value[key], depth + 1)
    if (problem !== undefined) return problem
  }
  return undefined
}

/** Reads a worker's request: the request, or why it is refused. */
export function readPrimaryModuleRequest (data: unknown): PrimaryModuleRequest | { refused: string } {
  if (data === null || typeof data !== 'object') return { refused: 'not an object' }
  const m = data as Record<string, unknown>
  if (m.op === 'seal') return { op: 'seal' }
  if (m.op !== 'use') return { refused: 'unknown op' }
  const problem = primaryModuleProblem(m.module) ?? jsonOptionsProblem(m.options)
  if (problem !== undefined) return { refused: problem }
  return { op: 'use', module: m.module as string, options: m.options as JsonObject }
}
