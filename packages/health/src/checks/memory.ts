import type { CheckDefinition } from '../check.js'
import { ThresholdError } from '../errors.js'

export interface MemoryThresholds {
  /** bytes of V8 heap in use above which the check fails */
  maxHeapUsed?: number
  /** bytes of resident memory above which the check fails */
  maxRss?: number
  critical?: boolean
}

/** Heap and RSS against thresholds; observes both in bytes. */
export function memoryCheck (thresholds: MemoryThresholds = {}): CheckDefinition {
  return {
    critical: thresholds.critical ?? true,
    measurement: 'utilization',
    check: async () => {
      const { heapUsed, rss } = process.memoryUsage()
      if (thresholds.maxHeapUsed !== undefined && heapUsed > thresholds.maxHeapUsed) {
        throw new ThresholdError(`heap used ${heapUsed} bytes is over ${thresholds.maxHeapUsed}`)
      }
      if (thresholds.maxRss !== undefined && rss > thresholds.maxRss) {
        throw new ThresholdError(`RSS ${rss} bytes is over ${thresholds.maxRss}`)
      }
      return { observedValue: { heapUsed, rss }, observedUnit: 'bytes' }
    }
  }
}
