import type { SupervisorState } from '../primary/supervisor.js'
import { adminRequest, ControlError } from './client.js'
import type { AdminTarget } from './parse.js'

/** A worker as GET /supervisor shows it; the stats come with its first report. */
export interface WorkerRow {
  slot: number
  pid: number
  state: string
  uptime: number
  restarts: number
  rss?: number
  cpu?: number
  requestsPerSecond?: number
  eventLoopDelay?: number
}

export type State = Omit<SupervisorState, 'workers'> & { workers: WorkerRow[], name?: string }

export function mb (bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** A number with one decimal and a unit, or '-' before the first stats report. */
export function fixed (value: number | undefined, unit = ''): string {
  return value === undefined ? '-' : `${value.toFixed(1)}${unit}`
}

export function duration (seconds: number): string {
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${seconds % 60}s`
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h${Math.floor(seconds / 60) % 60}m`
  return `${Math.floor(seconds / 86400)}d${Math.floor(seconds / 3600) % 24}h`
}

/** Columns padded to their widest cell. */
export function table (rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n')
}

export async function state (target: AdminTarget): Promise<State> {
  const { status, body } = await adminRequest(target, 'GET', '/supervisor')
  if (status !== 200 || body === null || typeof body !== 'object' || !Array.isArray((body as State).workers)) {
    throw new ControlError(`the admin server at ${target.url} answered ${status} to GET /supervisor, not a supervisor state`)
  }
  const s = body as State
  if (target.name !== undefined && s.name !== target.name) {
    throw new ControlError(`the app at ${target.url} is ${s.name === undefined ? 'unnamed' : JSON.stringify(s.name)}, not ${JSON.stringify(target.name)}: check --admin-port`)
  }
  return s
}

export const LIST_HEADER = ['NAME', 'SLOT', 'PID', 'STATE', 'UPTIME', 'RESTARTS', 'CPU', 'MEMORY', 'REQ/S']

/** One row per worker, then one per slot with no worker (backing off). */
export function workerRows (s: State, label = s.name ?? '-'): string[][] {
  const rows: string[][] = []
  for (const w of [...s.workers].sort((a, b) => a.slot - b.slot || a.uptime - b.uptime)) {
    rows.push([label, String(w.slot), String(w.pid), w.state, duration(w.uptime), String(w.restarts), fixed(w.cpu, '%'), mb(w.rss), fixed(w.requestsPerSecond)])
  }
  for (const slot of s.slots) {
    if (!s.workers.some((w) => w.slot === slot.slot)) rows.push([label, String(slot.slot), '-', slot.status, '-', String(slot.crashes), '-', '-', '-'])
  }
  return rows
}

/** Every worker of every app given; with several apps, one that does not answer is a row saying so. */
export async function list (targets: AdminTarget[], json: boolean): Promise<string> {
  const states = await Promise.all(targets.map(async (t) => {
    try {
      return await state(t)
    } catch (err) {
      if (targets.length === 1) throw err
      return err as Error
    }
  }))
  if (json) {
    return JSON.stringify(states.flatMap((s, i): object[] => s instanceof Error
      ? [{ name: targets[i].name, error: s.message }]
      : s.workers.map((w) => ({ name: s.name, ...w }))))
  }
  const rows = [LIST_HEADER]
  for (const [i, s] of states.entries()) {
    if (s instanceof Error) rows.push([targets[i].name ?? '-', '-', '-', 'unreachable', '-', '-', '-', '-', '-'])
    else rows.push(...workerRows(s))
  }
  return table(rows)
}

export async function describe (target: AdminTarget, json: boolean): Promise<string> {
  const s = await state(target)
  if (json) return JSON.stringify(s, null, 2)
  const lines = [
    `name:            ${s.name ?? '-'}`,
    `admin:           ${target.url}`,
    `workers:         ${s.workers.filter((w) => w.state === 'ready').length} ready of ${s.slots.length} slots${s.stopping ? ' (stopping)' : ''}${s.crashLoop ? ' (crash loop: gave up forking)' : ''}`,
    `restarts:        ${s.restarts} (memory: ${s.memoryRestarts}, hung: ${s.hangRestarts})`,
    `reloads:         ${s.reloads}`,
    ''
  ]
  const rows = [['SLOT', 'STATUS', 'CRASHES', 'LAST ERROR']]
  for (const slot of s.slots) rows.push([String(slot.slot), slot.status, String(slot.crashes), slot.lastError ?? ''])
  return `${lines.join('\n')}${table(rows)}\n\n${table([LIST_HEADER, ...workerRows(s)])}`
}

/** Rolling reload; throws when a replacement never became ready. */
export async function reload (target: AdminTarget): Promise<string> {
  if (target.name !== undefined) await state(target)
  const { status, body } = await adminRequest(target, 'POST', '/reload')
  const text = JSON.stringify(body)
  if (status !== 200) throw new ControlError(`reload failed (${status}): ${text}`, text)
  return text
}

/** Drains every worker and stops the primary; resolves once it said it stopped. */
export async function stop (target: AdminTarget): Promise<string> {
  if (target.name !== undefined) await state(target)
  const { status, body } = await adminRequest(target, 'POST', '/stop')
  if (status === 404) throw new ControlError(`the admin server at ${target.url} has no POST /stop: is it an older corral? send SIGTERM to the primary`)
  if (status !== 200 && status !== 202) throw new ControlError(`stop failed (${status}): ${JSON.stringify(body)}`, JSON.stringify(body))
  return JSON.stringify(body)
}

/** Adds or removes slots; resolves once new workers are ready or removed ones have drained. */
export async function scale (target: AdminTarget, count: string): Promise<string> {
  if (target.name !== undefined) await state(target)
  const { status, body } = await adminRequest(target, 'POST', '/scale', { workers: /^\d+$/.test(count) ? Number(count) : count })
  const text = JSON.stringify(body)
  if (status === 404) throw new ControlError(`the admin server at ${target.url} has no POST /scale: is it an older corral?`)
  if (status !== 200) throw new ControlError(`scale failed (${status}): ${(body as { message?: string, error?: string })?.message ?? (body as { error?: string })?.error ?? text}`, text)
  return text
}
