import type { CheckDefinition } from '../check.js'

/** A dependency check that passes when `call` resolves, observing its round trip in ms. */
export function roundTripCheck (call: () => Promise<unknown>, options: Omit<CheckDefinition, 'check'>): CheckDefinition {
  return {
    measurement: 'responseTime',
    ...options,
    check: async () => {
      const started = performance.now()
      await call()
      return { observedValue: Math.round((performance.now() - started) * 100) / 100, observedUnit: 'ms' }
    }
  }
}
