import { eventLoopMonitor } from '../event-loop-monitor.js'
import type { WorkerStats } from '../primary/worker-record.js'

const NUMERIC_FIELDS = ['rss', 'heapUsed', 'heapTotal', 'eventLoopDelay', 'eventLoopDelayMax', 'eventLoopUtilization', 'cpu', 'requests', 'requestsPerSecond'] as const

/**
 * Samples what a worker reports each `statsInterval`, from the process's one
 * event-loop monitor: the mean and the worst delay since the last report,
 * so a stall between two reports is never lost. CPU and the request rate
 * are deltas since the last sample; `requests` reads the worker's count.
 */
export function statsSampler (requests: () => number = () => 0): () => WorkerStats {
  const loop = eventLoopMonitor().reader()
  let last = { at: performance.now(), cpu: process.cpuUsage(), requests: requests() }
  return () => {
    const memory = process.memoryUsage()
    const { meanDelay, maxDelay, utilization } = loop.read()
    const now = { at: performance.now(), cpu: process.cpuUsage(), requests: requests() }
    const seconds = Math.max(now.at - last.at, 1) / 1000
    const cpuMicros = now.cpu.user - last.cpu.user + now.cpu.system - last.cpu.system
    const sample = { cpu: cpuMicros / 1e6 / seconds * 100, requests: now.requests, requestsPerSecond: (now.requests - last.requests) / seconds }
    last = now
    return {
      ...sample,
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
