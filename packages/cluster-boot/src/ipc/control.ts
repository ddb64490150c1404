import type { WorkerStats } from '../primary/worker-record.js'

/** The bus namespace cluster-boot itself uses between the primary and its workers. */
export const CONTROL = 'corral.boot'

/** Why a worker could not start, in words a person can act on. */
export interface StartupFailure {
  message: string
  code?: string
}

export type ControlMessage =
  | { event: 'ready' }
  | { event: 'stats', stats: WorkerStats }
  | { event: 'drain', reason: string }
  | { event: 'exiting' }
  | { event: 'failed', error: StartupFailure }

export function isControlMessage (data: unknown): data is ControlMessage {
  if (data === null || typeof data !== 'object') return false
  const event = (data as { event?: unknown }).event
  if (event === 'stats') {
    const stats = (data as { stats?: Record<string, unknown> }).stats
    return stats !== null && typeof stats === 'object' && typeof stats.rss === 'number'
  }
  if (event === 'failed') {
    const error = (data as { error?: Record<string, unknown> }).error
    return error !== null && typeof error === 'object' && typeof error.message === 'string' &&
      (error.code === undefined || typeof error.code === 'string')
  }
  return event === 'ready' || event === 'drain' || event === 'exiting'
}
