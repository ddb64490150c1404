import { CheckTimeoutError } from './errors.js'
import type { CheckFn, CheckOptions, RegisteredCheck } from './check.js'
import { redact, redactValue } from '@corral/cluster-boot'

export type Status = 'pass' | 'warn' | 'fail'

export interface CheckOutcome {
  name: string
  measurement: string
  critical: boolean
  status: Status
  observedValue?: unknown
  observedUnit?: string
  output?: string
  time: string
}

export interface RunResult {
  /** the verdict of the checks alone: fail when a critical check fails */
  status: Status
  outcomes: CheckOutcome[]
  at: number
}

/**
 * Runs the checks, each bounded by its timeout, all at once. Results are kept
 * for `checkInterval` and concurrent callers share the run in flight: a storm of
 * probes reaches each dependency at most once per interval.
 */
export class CheckRunner {
  private readonly checks = new Map<string, RegisteredCheck>()
  private last: RunResult | undefined
  private inFlight: Promise<RunResult> | undefined

  constructor (private readonly checkInterval: number, private readonly defaultTimeout: number) {}

  add (name: string, fn: CheckFn, options: CheckOptions = {}): void {
    this.checks.set(name, {
      name,
      fn,
      critical: options.critical ?? true,
      timeout: options.timeout ?? this.defaultTimeout,
      measurement: options.measurement ?? 'status'
    })
    this.last = undefined
  }

  remove (name: string): boolean {
    this.last = undefined
    return this.checks.delete(name)
  }

  run (): Promise<RunResult> {
    if (this.last !== undefined && Date.now() - this.last.at < this.checkInterval) return Promise.resolve(this.last)
    this.inFlight ??= this.runAll().finally(() => { this.inFlight = undefined })
    return this.inFlight
  }

  private async runAll (): Promise<RunResult> {
    const outcomes = await Promise.all([...this.checks.values()].map((check) => runOne(check)))
    const status: Status = outcomes.some((o) => o.status === 'fail' && o.critical)
      ? 'fail'
      : outcomes.some((o) => o.status !== 'pass') ? 'warn' : 'pass'
    this.last = { status, outcomes, at: Date.now() }
    return this.last
  }
}

async function runOne (check: RegisteredCheck): Promise<CheckOutcome> {
  const started = Date.now()
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new CheckTimeoutError(check.timeout)), check.timeout)
  const timedOut = new Promise<never>((_resolve, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true })
  })
  timedOut.catch(() => {})
  const outcome: CheckOutcome = { name: check.name, measurement: check.measurement, critical: check.critical, status: 'pass', time: '' }
  try {
    const result = await Promise.race([Promise.resolve({ signal: controller.signal }).then(check.fn), timedOut])
    if (result !== undefined && result !== null && typeof result === 'object') {
      if (result.status === 'warn') outcome.status = 'warn'
      if (result.observedValue !== undefined) outcome.observedValue = redactValue(result.observedValue)
      if (result.observedUnit !== undefined) outcome.observedUnit = result.observedUnit
      if (typeof result.output === 'string') outcome.output = redact(result.output)
    }
  } catch (err) {
    // a non-critical failure only warns: it must never take the instance out
    outcome.status = check.critical ? 'fail' : 'warn'
    outcome.output = redact(err instanceof Error ? err.message : String(err))
  } finally {
    clearTimeout(timer)
  }
  if (outcome.observedValue === undefined && check.measurement === 'responseTime') {
    outcome.observedValue = Date.now() - started
    outcome.observedUnit = 'ms'
  }
  outcome.time = new Date().toISOString()
  return outcome
}
