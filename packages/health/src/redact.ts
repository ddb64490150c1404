const MAX_OUTPUT = 300
const MAX_DEPTH = 5
// scheme://user:password@host → scheme://***@host
const CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi
// password=..., "password":"...", api_key=..., X-Api-Key: ..., access_token=...
const SECRET_FIELDS = /((?:password|passwd|pwd|secret|token|auth|api[_-]?key)["']?\s*[:=]\s*["']?)[^\s"',;&]+/gi
// Authorization: Bearer ..., Basic ..., Digest ... (the scheme stays, the credentials go)
const AUTH_SCHEMES = /(\b(?:bearer|basic|digest)\s+)[A-Za-z0-9\-._~+/]+=*/gi
// an observation's key that names a secret: its value is never shown
const SECRET_KEY = /password|passwd|pwd|secret|token|auth|api[_-]?key/i

/** A check's output, safe to show: no credentials, bounded length. */
export function redact (text: string): string {
  const clean = text.replace(CREDENTIALS, '$1***@').replace(AUTH_SCHEMES, '$1***').replace(SECRET_FIELDS, '$1***')
  return clean.length > MAX_OUTPUT ? clean.slice(0, MAX_OUTPUT) + '…' : clean
}

/** An observed value, safe to show: every string in it redacted, values under secret-named keys hidden. */
export function redactValue (value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value)
  if (value === null || typeof value !== 'object') return value
  // deeper than any observation needs: shown as a marker rather than walked
  if (depth >= MAX_DEPTH) return '[nested]'
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) out[key] = SECRET_KEY.test(key) ? '***' : redactValue(v, depth + 1)
  return out
}
