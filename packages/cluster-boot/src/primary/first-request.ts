import type { StickyKey } from '../options.js'

/** What the primary reads of a first request: at most this much, for at most this long (then the address decides). */
export const MAX_HEAD_BYTES = 16 * 1024
export const HEAD_TIMEOUT_MS = 1000

/** What a first request says about its routing: the key's value and the forwarded client address, when found. */
export interface RequestKey {
  value?: string
  forwarded?: string
}

/** Whether `head` holds what the key needs: the request line for a sid alone, the whole head for a header. */
export function headComplete (head: Buffer, wholeHead: boolean): boolean {
  return wholeHead ? head.includes('\r\n\r\n') || head.includes('\n\n') : head.includes('\n')
}

function headerValues (lines: string[], name: string): string[] {
  const values: string[] = []
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon === name.length && line.slice(0, colon).toLowerCase() === name) values.push(line.slice(colon + 1).trim())
  }
  return values
}

function decode (value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

function cookieValue (lines: string[], name: string): string | undefined {
  for (const header of headerValues(lines, 'cookie')) {
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=')
      if (eq === -1 || pair.slice(0, eq).trim() !== name) continue
      const value = pair.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')
      if (value !== '') return decode(value)
    }
  }
  return undefined
}

/**
 * Reads the sticky key (and, when `trustProxy` hops are trusted, the
 * forwarded client address) from the bytes of a first request. Anything it
 * cannot read is left out: the caller falls back to the address.
 */
export function readRequestKey (head: Buffer, key: StickyKey, trustProxy: number): RequestKey {
  const text = head.toString('latin1')
  const end = text.search(/\r?\n\r?\n/)
  const lines = (end === -1 ? text : text.slice(0, end)).split(/\r?\n/)
  const found: RequestKey = {}
  if (key === 'sid') {
    const target = lines[0].split(' ')[1] ?? ''
    const query = target.indexOf('?')
    const sid = query === -1 ? null : new URLSearchParams(target.slice(query + 1).split('#')[0]).get('sid')
    if (sid !== null && sid !== '') found.value = sid
  } else if (typeof key === 'object') {
    found.value = cookieValue(lines.slice(1), key.cookie)
  }
  if (trustProxy > 0) {
    const hops = headerValues(lines.slice(1), 'x-forwarded-for').join(',').split(',').map((s) => s.trim()).filter((s) => s !== '')
    if (hops.length > 0) found.forwarded = hops[Math.max(0, hops.length - trustProxy)]
  }
  return found
}
