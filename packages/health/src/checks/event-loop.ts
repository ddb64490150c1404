import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks'
import type { CheckDefinition } from '../check.js'
import { ThresholdError } from '../errors.js'

export interface EventLoopThresholds {
  /** ms of event-loop delay (p99 since the last check) above which the check fails (default 1000) */
  maxDelay?: number
  /** event-loop utilisation (0..1, since the last check) above which the check fails (default 0.98) */
  maxUtilization?: number
  critical?: boolean
}

/**
 * Event-loop delay (p99) and utilisation since the last run. A loop that
 * stays saturated makes the instance not ready, so the balancer sends its
 * work elsewhere; liveness stays untouched. Returns the check and a `stop`
 * for the monitor.
 */
export function eventLoopCheck (thresholds: EventLoopThresholds = {}): CheckDefinition & { stop: () => void } {
  const maxDelay = thresholds.maxDelay ?? 1000
  const maxUtilization = thresholds.maxUtilization ?? 0.98
  const histogram = monitorEventLoopDelay({ resolution: 10 })
  histogram.enable()
  let elu: EventLoopUtilization = performance.eventLoopUtilization()
  return {
    critical: thresholds.critical ?? true,
    measurement: 'utilization',
    stop: () => histogram.disable(),
    check: async () => {
      const delay = Number.isFinite(histogram.percentile(99)) ? histogram.percentile(99) / 1e6 : 0
      const next = performance.eventLoopUtilization()
      const utilization = performance.eventLoopUtilization(next, elu).utilization
      elu = next
      histogram.reset()
      const observed = { delayP99Ms: Math.round(delay * 10) / 10, utilization: Math.round(utilization * 1000) / 1000 }
      if (delay > maxDelay) throw new ThresholdError(`event-loop delay p99 ${observed.delayP99Ms} ms is over ${maxDelay} ms`)
      if (utilization > maxUtilization) throw new ThresholdError(`event-loop utilisation ${observed.utilization} is over ${maxUtilization}`)
      return { observedValue: observed }
    }
  }
}
