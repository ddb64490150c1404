import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import type { WorkerStats } from './worker-record.js'

const NUMERIC_FIELDS = ['rss', 'heapUsed', 'heapTotal', 'eventLoopDelay', 'eventLoopDelayMax', 'eventLoopUtilization'] as const

/**
 * Samples what a worker reports each `statsInterval`. The delay histogram is
 * reset after each report, so the max is the worst stall since the last one:
 * a stall between two reports is never lost.
 */
export function statsSampler (): () => WorkerStats {
  const delay = monitorEventLoopDelay({ resolution: 10 })
  delay.enable()
  let elu = performance.eventLoopUtilization()
  return () => {
    const memory = process.memoryUsage()
    const nextElu = performance.eventLoopUtilization()
    const stats: WorkerStats = {
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      eventLoopDelay: Number.isFinite(delay.mean) ? delay.mean / 1e6 : 0,
      eventLoopDelayMax: delay.count > 0 ? delay.max / 1e6 : 0,
      eventLoopUtilization: performance.eventLoopUtilization(nextElu, elu).utilization
    }
    elu = nextElu
    delay.reset()
    return stats
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
