import type { Status } from './check-runner.js'
import { redact, type SlotState, type SlotStatus } from '@corral/cluster-boot'

/** A slot of the supervisor's `state().slots`, as the machine view shows it: when it respawns as a delay, not a date. */
export interface SlotView extends Omit<SlotState, 'respawnAt'> {
  /** ms until the next respawn of a slot in backoff */
  respawnInMs?: number
}

const SLOT_STATUSES = new Set<SlotStatus>(['up', 'starting', 'unresponsive', 'backoff'])

/** The slots of `supervisor.state()`, or [] when it lists none. */
export function readSlots (state: unknown, now = Date.now()): SlotView[] {
  const slots = (state as { slots?: unknown } | null)?.slots
  if (!Array.isArray(slots)) return []
  const views: SlotView[] = []
  for (const s of slots as Array<Record<string, unknown> | null>) {
    if (s === null || typeof s !== 'object' || !Number.isInteger(s.slot) || typeof s.status !== 'string' || !SLOT_STATUSES.has(s.status as SlotStatus)) continue
    const view: SlotView = { slot: s.slot as number, status: s.status as SlotStatus, crashes: Number.isFinite(s.crashes) ? s.crashes as number : 0 }
    if (typeof s.respawnAt === 'number' && Number.isFinite(s.respawnAt)) view.respawnInMs = Math.max(0, s.respawnAt - now)
    // a worker's last error may quote a connection string
    if (typeof s.lastError === 'string') view.lastError = redact(s.lastError)
    views.push(view)
  }
  return views
}

/**
 * The machine's verdict: fail with no worker ready; warn when some slot is
 * short of a ready worker or backing off after crashes (the others serve);
 * else pass.
 */
export function machineStatus (ready: number, expected: number, slots: SlotView[]): Status {
  if (ready === 0) return 'fail'
  if (ready < expected || slots.some((s) => s.status === 'backoff')) return 'warn'
  return 'pass'
}
