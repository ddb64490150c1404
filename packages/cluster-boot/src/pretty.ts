import { createRequire } from 'node:module'

type PinoPretty = typeof import('pino-pretty')

let format: ((line: string) => string) | undefined

/**
 * One log line for a person at a terminal: `[time] LEVEL: app/slot message`
 * (the primary's own lines: `message`), other fields below. Text that is
 * not JSON passes as it is.
 */
export function prettyLine (line: string): string {
  if (format === undefined) {
    // loaded on the first pretty line: workers and primaries that log JSON never pay for it
    const { isColorSupported, prettyFactory } = createRequire(import.meta.url)('pino-pretty') as PinoPretty
    format = prettyFactory({
      colorize: isColorSupported,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'hostname,name,app,slot,stream,role,primaryPid',
      messageFormat: (log, messageKey) => {
        // a worker's line says whose it is; the primary's own lines name the app themselves where it matters
        const who = log.app === undefined || log.slot === undefined ? '' : `${String(log.app)}/${String(log.slot)} `
        return `${who}${String(log[messageKey] ?? '')}`
      }
    })
  }
  const text = format(line)
  return text.endsWith('\n') ? text : `${text}\n`
}
