import { chmodSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** What a running primary tells the control verbs about itself. */
export interface RegisteredApp {
  name: string
  pid: number
  /** its admin server, e.g. http://127.0.0.1:41234 */
  admin: string
  /** the admin token Corral generated for it, when the user gave none */
  token?: string
  cwd: string
  startedAt: number
}

/**
 * Owner-only directory where each primary started by the CLI leaves one file
 * (its admin URL, pid and generated token), so `corral list` and `corral
 * reload <name>` find running apps without a port: CORRAL_HOME, else ~/.corral.
 */
export function appsDir (env: NodeJS.ProcessEnv = process.env): string {
  const home = env.CORRAL_HOME !== undefined && env.CORRAL_HOME !== '' ? env.CORRAL_HOME : path.join(os.homedir(), '.corral')
  return path.join(home, 'apps')
}

/** Writes this primary's file and removes it when the process exits; returns the remover. */
export function register (app: RegisteredApp, env: NodeJS.ProcessEnv = process.env): () => void {
  const dir = appsDir(env)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  // an existing directory keeps its mode: the token inside must not be readable by others
  chmodSync(dir, 0o700)
  const file = path.join(dir, `${app.name}.${app.pid}.json`)
  writeFileSync(file, `${JSON.stringify(app)}\n`, { mode: 0o600 })
  const remove = (): void => {
    process.off('exit', remove)
    try { unlinkSync(file) } catch {}
  }
  process.on('exit', remove)
  return remove
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists, but is another user's
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function isApp (value: unknown): value is RegisteredApp {
  const v = value as RegisteredApp
  return value !== null && typeof value === 'object' && typeof v.name === 'string' && Number.isInteger(v.pid) && typeof v.admin === 'string' &&
    (v.token === undefined || typeof v.token === 'string')
}

/** Running apps, by name then pid; files of primaries that died without cleaning up (SIGKILL) are removed. */
export function registeredApps (env: NodeJS.ProcessEnv = process.env): RegisteredApp[] {
  const dir = appsDir(env)
  let files: string[]
  try { files = readdirSync(dir).filter((f) => f.endsWith('.json')) } catch { return [] }
  const apps: RegisteredApp[] = []
  for (const f of files) {
    let app: unknown
    try { app = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) } catch { continue }
    if (!isApp(app)) continue
    if (alive(app.pid)) apps.push(app)
    else try { unlinkSync(path.join(dir, f)) } catch {}
  }
  return apps.sort((a, b) => a.name.localeCompare(b.name) || a.pid - b.pid)
}
