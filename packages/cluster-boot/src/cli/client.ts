import type { AdminTarget, Selection } from './parse.js'
import { appsDir, registeredApps } from './registry.js'

/** A failure to show as one line on stderr; the admin server's answer, when there is one, goes to stdout for scripts. */
export class ControlError extends Error {
  constructor (message: string, readonly body?: string) {
    super(message)
  }
}

/** One request to a running primary's admin server; the reason in one line when nothing answers. */
export async function adminRequest (target: AdminTarget, method: 'GET' | 'POST', route: string, json?: unknown): Promise<{ status: number, body: unknown }> {
  const url = `${target.url}${route}`
  // the admin server refuses a mutating request without this header: a web page cannot send it
  const headers: Record<string, string> = { 'x-corral-admin': '1' }
  if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`
  if (json !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(url, { method, headers, body: json === undefined ? undefined : JSON.stringify(json), signal: AbortSignal.timeout(method === 'GET' ? 10_000 : 10 * 60_000) })
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message
    throw new ControlError(`cannot reach the admin server at ${url} (${cause}): is the app${target.name === undefined ? '' : ` ${target.name}`} running?`)
  }
  const text = await res.text()
  let body: unknown = text
  try { body = JSON.parse(text) } catch {}
  if (res.status === 401) throw new ControlError(`the admin server at ${url} wants a token: pass --token or set CORRAL_ADMIN_TOKEN`, text)
  if (res.status === 403 || res.status === 421) throw new ControlError(`the admin server at ${url} refused the request: ${(body as { message?: string }).message ?? text}`, text)
  return { status: res.status, body }
}

/**
 * The admin servers a verb talks to: the one --admin-port names, else the
 * running apps the CLI started (`corral start` registers each), selected by
 * name. `several`: a verb that shows every app when none is named (list, monit).
 */
export function resolveTargets (verb: string, select: Selection, several: boolean, env: NodeJS.ProcessEnv = process.env): AdminTarget[] {
  if (select.url !== undefined) return [{ url: select.url, token: select.token, ...(select.name === undefined ? {} : { name: select.name }) }]
  const apps = registeredApps(env)
  const names = (list: typeof apps): string => [...new Set(list.map((a) => a.name))].join(', ')
  const chosen = select.name === undefined ? apps : apps.filter((a) => a.name === select.name)
  if (chosen.length === 0) {
    // boot() in code registers nothing: its admin port is the way in
    const elsewhere = 'for an app that boot() starts in code, give --admin-port'
    if (select.name !== undefined) throw new ControlError(`no app named ${JSON.stringify(select.name)} is running (${apps.length === 0 ? 'none is' : `running: ${names(apps)}`}); ${elsewhere}`)
    throw new ControlError(`no app is running (none in ${appsDir(env)}); ${elsewhere}`)
  }
  if (!several && chosen.length > 1) {
    throw new ControlError(select.name === undefined
      ? `${chosen.length} apps are running (${names(chosen)}): name one, e.g. corral ${verb} ${chosen[0].name}`
      : `${chosen.length} apps named ${JSON.stringify(select.name)} are running (primary pids ${chosen.map((a) => a.pid).join(', ')}): give --admin-port`)
  }
  // the token Corral generated for that app; else the one given
  return chosen.map((a) => ({ url: a.admin, token: a.token ?? select.token, name: a.name }))
}
