import type { Status } from './check-runner.js'
import { redact } from '@corral/cluster-boot'

/**
 * A slot as a cluster-boot supervisor that backs off crash-looping slots
 * lists it in `state().slots`. Read defensively: older supervisors have no
 * `slots`, and the field is another package's, so anything malformed is skipped.
 */
export interface SlotView {
  slot: number
  status: 'up' | 'starting' | 'backoff'
  crashes: number
  /** ms until the next respawn of a slot in backoff */
  respawnInMs?: number
  lastError?: string
}

const SLOT_STATUSES = new Set(['up', 'starting', 'backoff'])

/**
 * Pids of workers the supervisor marks 'unresponsive' (no heartbeat for its
 * hangTimeout, in supervisors that detect hangs): not ready, whatever their
 * last report said, since a blocked worker stops reporting but its last
 * report stays fresh for `staleAfter`.
 */
export function unresponsivePids (state: unknown): Set<number> {
  const workers = (state as { workers?: unknown } | null)?.workers
  const pids = new Set<number>()
  if (!Array.isArray(workers)) return pids
  for (const w of workers as Array<{ state?: unknown, pid?: unknown } | null>) {
    if (w !== null && typeof w === 'object' && w.state === 'unresponsive' && typeof w.pid === 'number') pids.add(w.pid)
  }
  return pids
}

/** The slots of `supervisor.state()`, or [] when it lists none. */
export function readSlots (state: unknown, now = Date.now()): SlotView[] {
  const slots = (state as { slots?: unknown } | null)?.slots
  if (!Array.isArray(slots)) return []
  const views: SlotView[] = []
  for (const s of slots as Array<Record<string, unknown> | null>) {
    if (s === null || typeof s !== 'object' || !Number.isInteger(s.slot) || typeof s.status !== 'string' || !SLOT_STATUSES.has(s.status)) continue
    const view: SlotView = { slot: s.slot as number, status: s.status as SlotView['status'], crashes: Number.isFinite(s.crashes) ? s.crashes as number : 0 }
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
