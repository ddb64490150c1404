import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino'

/**
 * cluster-boot's own logger: one JSON line per event, bound to who logs it.
 * `destination`: where the primary's lines go when it captures logs (the
 * same file and stdout as the workers' lines); a logger or a transport the
 * user gave keeps its own.
 */
export function createLogger (option: Logger | LoggerOptions | false, bindings: Record<string, unknown>, destination?: DestinationStream): Logger {
  if (option === false) return pino({ enabled: false })
  if (typeof (option as Logger).child === 'function') return (option as Logger).child(bindings)
  // base: null drops pino's own pid, so `pid` in a line is always the worker it is about
  // sync: these are rare event lines, and an async write still in flight at process.exit lands after later ones
  const options: LoggerOptions = { name: 'corral', base: null, ...(option as LoggerOptions) }
  if (options.transport !== undefined) return pino(options).child(bindings)
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true })).child(bindings)
}
