import { eventLoopMonitor } from '../event-loop-monitor.js'
import type { WorkerStats } from '../primary/worker-record.js'

const NUMERIC_FIELDS = ['rss', 'heapUsed', 'heapTotal', 'eventLoopDelay', 'eventLoopDelayMax', 'eventLoopUtilization'] as const

/**
 * Samples what a worker reports each `statsInterval`, from the process's one
 * event-loop monitor: the mean and the worst delay since the last report,
 * so a stall between two reports is never lost.
 */
export function statsSampler (): () => WorkerStats {
  const loop = eventLoopMonitor().reader()
  return () => {
    const memory = process.memoryUsage()
    const { meanDelay, maxDelay, utilization } = loop.read()
    return {
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      eventLoopDelay: meanDelay,
      eventLoopDelayMax: maxDelay,
      eventLoopUtilization: utilization
    }
  }
}

/**
 * The stats a worker sent, or undefined: a worker is untrusted input, so only
 * the known fields are copied, and only finite, non-negative numbers.
 */
export function readStats (value: unknown): WorkerStats | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const source = value as Record<string, unknown>
  const stats: Record<string, number> = {}
  for (const field of NUMERIC_FIELDS) {
    const n = source[field]
    if (typeof n === 'number' && Number.isFinite(n) && n >= 0) stats[field] = n
    else if (field === 'rss') return undefined
    else stats[field] = 0
  }
  return stats as unknown as WorkerStats
}
