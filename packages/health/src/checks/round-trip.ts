import type { CheckContext, CheckDefinition } from '../check.js'

/**
 * A dependency check that passes when `call` resolves, observing its round
 * trip in ms. `prepare` runs first, untimed: waiting for a client that is
 * still connecting is not the dependency's latency.
 */
export function roundTripCheck (
  call: () => Promise<unknown>,
  options: Omit<CheckDefinition, 'check'>,
  prepare?: (context: CheckContext) => Promise<void>
): CheckDefinition {
  return {
    measurement: 'responseTime',
    ...options,
    check: async (context) => {
      if (prepare !== undefined) await prepare(context)
      const started = performance.now()
      await call()
      return { observedValue: Math.round((performance.now() - started) * 100) / 100, observedUnit: 'ms' }
    }
  }
}
