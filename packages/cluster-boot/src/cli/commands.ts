import type { SupervisorState } from '../primary/supervisor.js'
import { adminRequest, ControlError } from './client.js'
import type { AdminTarget } from './parse.js'

interface WorkerRow {
  slot: number
  pid: number
  state: string
  uptime: number
  restarts: number
  rss?: number
}

type State = Omit<SupervisorState, 'workers'> & { workers: WorkerRow[], name?: string }

function mb (bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

function duration (seconds: number): string {
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

async function state (target: AdminTarget): Promise<State> {
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

export async function list (target: AdminTarget, json: boolean): Promise<string> {
  const s = await state(target)
  if (json) return JSON.stringify(s.workers)
  const name = s.name ?? '-'
  const rows = [['NAME', 'SLOT', 'PID', 'STATE', 'UPTIME', 'RESTARTS', 'MEMORY']]
  for (const w of [...s.workers].sort((a, b) => a.slot - b.slot || a.uptime - b.uptime)) {
    rows.push([name, String(w.slot), String(w.pid), w.state, duration(w.uptime), String(w.restarts), mb(w.rss)])
  }
  for (const slot of s.slots) {
    if (!s.workers.some((w) => w.slot === slot.slot)) rows.push([name, String(slot.slot), '-', slot.status, '-', String(slot.crashes), '-'])
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
  return `${lines.join('\n')}${table(rows)}\n\n${await list(target, false)}`
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
