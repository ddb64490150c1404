/** What a check may resolve with: nothing (pass), or a status and an observation. */
export interface CheckResult {
  status?: 'pass' | 'warn'
  observedValue?: unknown
  observedUnit?: string
  /** a note, shown with details */
  output?: string
}

/** What a check is given: `signal` aborts when its timeout passes, so a wait it started can stop listening. */
export interface CheckContext { signal: AbortSignal }

/** Any async function is a check: it passes by resolving, warns by resolving `{ status: 'warn' }`, fails by throwing. */
export type CheckFn = (context: CheckContext) => Promise<CheckResult | void> | CheckResult | void

export interface CheckOptions {
  /** a critical check that fails makes the instance not ready; a non-critical one only warns (default true) */
  critical?: boolean
  /** ms before the check counts as failed (default: the plugin's `timeout`) */
  timeout?: number
  /** the measurement in the report's key, `name:measurement` (default 'responseTime' for dependencies, else 'status') */
  measurement?: string
}

export interface CheckDefinition extends CheckOptions {
  check: CheckFn
}

export interface RegisteredCheck {
  name: string
  fn: CheckFn
  critical: boolean
  timeout: number
  measurement: string
}
