const MAX_OUTPUT = 300
// scheme://user:password@host → scheme://***@host
const CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi
// password=..., "password":"..."
const SECRET_FIELDS = /((?:password|passwd|pwd|secret|token|auth)["']?\s*[:=]\s*["']?)[^\s"',;&]+/gi

/** A check's output, safe to show: no credentials, bounded length. */
export function redact (text: string): string {
  const clean = text.replace(CREDENTIALS, '$1***@').replace(SECRET_FIELDS, '$1***')
  return clean.length > MAX_OUTPUT ? clean.slice(0, MAX_OUTPUT) + '…' : clean
}
