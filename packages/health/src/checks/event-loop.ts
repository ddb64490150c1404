import { performance, type EventLoopUtilization } from 'node:perf_hooks'
import type { CheckDefinition } from '../check.js'
import { eventLoopMonitor } from '@corral/cluster-boot'
import { ThresholdError } from '../errors.js'

export interface EventLoopThresholds {
  /** ms of event-loop delay (the worst since the last check) above which the check fails (default 1000) */
  maxDelay?: number
  /** event-loop utilisation (0..1, over the last second or more) above which the check fails (default 0.98) */
  maxUtilization?: number
  critical?: boolean
}

// a shorter window says little (start-up alone keeps a loop busy)
const MIN_WINDOW_MS = 1000

/**
 * Event-loop delay (the worst since the last run) and utilisation, from the
 * process's one event-loop monitor (cluster-boot's, shared with its worker
 * stats and @corral/metrics). A loop that stays saturated makes the instance
 * not ready, so the balancer sends its work elsewhere; liveness stays
 * untouched. `stop()` ends this check's reading.
 */
export function eventLoopCheck (thresholds: EventLoopThresholds = {}): CheckDefinition & { stop: () => void } {
  const maxDelay = thresholds.maxDelay ?? 1000
  const maxUtilization = thresholds.maxUtilization ?? 0.98
  const loop = eventLoopMonitor().reader()
  let window: EventLoopUtilization = performance.eventLoopUtilization()
  let utilization = 0
  return {
    critical: thresholds.critical ?? true,
    measurement: 'utilization',
    stop: () => loop.close(),
    check: async () => {
      const delay = loop.read().maxDelay
      const now = performance.eventLoopUtilization()
      const elapsed = performance.eventLoopUtilization(now, window)
      if (elapsed.idle + elapsed.active >= MIN_WINDOW_MS) {
        utilization = elapsed.utilization
        window = now
      }
      const observed = { delayMaxMs: Math.round(delay * 10) / 10, utilization: Math.round(utilization * 1000) / 1000 }
      if (delay > maxDelay) throw new ThresholdError(`event-loop delay ${observed.delayMaxMs} ms is over ${maxDelay} ms`)
      if (utilization > maxUtilization) throw new ThresholdError(`event-loop utilisation ${observed.utilization} is over ${maxUtilization}`)
      return { observedValue: observed }
    }
  }
}
