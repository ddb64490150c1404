import type { AdminTarget } from './parse.js'

/** A failure to show as one line on stderr; the admin server's answer, when there is one, goes to stdout for scripts. */
export class ControlError extends Error {
  constructor (message: string, readonly body?: string) {
    super(message)
  }
}

/** One request to a running primary's admin server; the reason in one line when nothing answers. */
export async function adminRequest (target: AdminTarget, method: 'GET' | 'POST', route: string): Promise<{ status: number, body: unknown }> {
  const url = `${target.url}${route}`
  // the admin server refuses a mutating request without this header: a web page cannot send it
  const headers: Record<string, string> = { 'x-corral-admin': '1' }
  if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`
  let res: Response
  try {
    res = await fetch(url, { method, headers, signal: AbortSignal.timeout(method === 'GET' ? 10_000 : 10 * 60_000) })
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message
    throw new ControlError(`cannot reach the admin server at ${url} (${cause}): is the app running with --admin-port?`)
  }
  const text = await res.text()
  let body: unknown = text
  try { body = JSON.parse(text) } catch {}
  if (res.status === 401) throw new ControlError(`the admin server at ${url} wants a token: pass --token or set CORRAL_ADMIN_TOKEN`, text)
  if (res.status === 403 || res.status === 421) throw new ControlError(`the admin server at ${url} refused the request: ${(body as { message?: string }).message ?? text}`, text)
  return { status: res.status, body }
}
