import { pino, type Logger, type LoggerOptions } from 'pino'

/** cluster-boot's own logger: one JSON line per event, bound to who logs it. */
export function createLogger (option: Logger | LoggerOptions | false, bindings: Record<string, unknown>): Logger {
  if (option === false) return pino({ enabled: false })
  if (typeof (option as Logger).child === 'function') return (option as Logger).child(bindings)
  // base: null drops pino's own pid, so `pid` in a line is always the worker it is about
  return pino({ name: 'corral', base: null, ...(option as LoggerOptions) }).child(bindings)
}
