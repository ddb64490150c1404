const MAX_OUTPUT = 300
const MAX_DEPTH = 5
// one list for both patterns below, so a word added here is hidden in text and in keys alike
const SECRET_WORDS = ['password', 'passwd', 'pwd', 'secret', 'token', 'auth', 'api[_-]?key'].join('|')
// scheme://user:password@host → scheme://***@host
const CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi
// password=..., "password":"...", api_key=..., X-Api-Key: ..., access_token=...
const SECRET_FIELDS = new RegExp(`((?:${SECRET_WORDS})["']?\\s*[:=]\\s*["']?)[^\\s"',;&]+`, 'gi')
// Authorization: Bearer ..., Basic ..., Digest ... (the scheme stays, the credentials go)
const AUTH_SCHEMES = /(\b(?:bearer|basic|digest)\s+)[A-Za-z0-9\-._~+/]+=*/gi
// an observation's key that names a secret: its value is never shown
const SECRET_KEY = new RegExp(SECRET_WORDS, 'i')

/** Text a worker or a check produced, safe to show: no credentials, at most `max` characters. */
export function redact (text: string, max = MAX_OUTPUT): string {
  const clean = text.replace(CREDENTIALS, '$1***@').replace(AUTH_SCHEMES, '$1***').replace(SECRET_FIELDS, '$1***')
  return clean.length > max ? clean.slice(0, max) + '…' : clean
}

function isPlainObject (value: object): boolean {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * An observed value, safe to show: every string in it redacted, values under
 * secret-named keys hidden. Other objects (a Date, a Map) pass through as
 * they are: walking their own keys would turn them into `{}`.
 */
export function redactValue (value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value)
  if (value === null || typeof value !== 'object') return value
  // deeper than any observation needs: shown as a marker rather than walked
  if (depth >= MAX_DEPTH) return '[nested]'
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1))
  if (!isPlainObject(value)) return value
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) out[key] = SECRET_KEY.test(key) ? '***' : redactValue(v, depth + 1)
  return out
}
