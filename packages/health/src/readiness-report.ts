import type { Status } from './check-runner.js'

export const HEALTH_NAMESPACE = 'corral.health'

/** What a worker tells the primary about its readiness, every `reportInterval` and when it drains. */
export interface ReadinessReport {
  status: Status
  draining: boolean
  at: number
}

const STATUSES = new Set(['pass', 'warn', 'fail'])

export function isReadinessReport (data: unknown): data is ReadinessReport {
  if (data === null || typeof data !== 'object') return false
  const r = data as Record<string, unknown>
  return typeof r.status === 'string' && STATUSES.has(r.status) && typeof r.draining === 'boolean' &&
    typeof r.at === 'number' && Number.isFinite(r.at)
}
