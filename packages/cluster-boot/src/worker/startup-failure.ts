import type { StartupFailure } from '../ipc/control.js'
import type { ResolvedOptions } from '../options.js'

/**
 * A worker's start-up error in plain words, naming the option or file it is
 * about where the error says which: the primary prints it once and stops.
 */
export function describeStartupFailure (err: unknown, opts: Pick<ResolvedOptions, 'port' | 'host'>): StartupFailure {
  if (err === null || typeof err !== 'object') return { message: `the app factory threw ${String(err)}` }
  const e = err as { message?: unknown, code?: unknown }
  const code = typeof e.code === 'string' ? e.code : undefined
  const message = typeof e.message === 'string' && e.message !== '' ? e.message.split('\n')[0] : String(err)
  if (code === 'EADDRINUSE') return { code, message: `port ${opts.port} on ${opts.host} is already in use (option "port" or env PORT): another process listens there` }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') return { code, message: `cannot listen on ${opts.host}:${opts.port} (options "host" and "port"): ${message}` }
  return code === undefined ? { message } : { code, message }
}
