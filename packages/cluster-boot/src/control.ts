import type { WorkerStats } from './worker-record.js'

/** The bus namespace cluster-boot itself uses between the primary and its workers. */
export const CONTROL = 'corral.boot'

export type ControlMessage =
  | { event: 'ready' }
  | { event: 'stats', stats: WorkerStats }
  | { event: 'drain', reason: string }
  | { event: 'exiting' }

export function isControlMessage (data: unknown): data is ControlMessage {
  if (data === null || typeof data !== 'object') return false
  const event = (data as { event?: unknown }).event
  if (event === 'stats') {
    const stats = (data as { stats?: Record<string, unknown> }).stats
    return stats !== null && typeof stats === 'object' && typeof stats.rss === 'number'
  }
  return event === 'ready' || event === 'drain' || event === 'exiting'
}
