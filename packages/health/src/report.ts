import type { CheckOutcome, RunResult, Status } from './check-runner.js'

export const MEDIA_TYPE = 'application/health+json'

/** A body in the IETF health-check draft's shape (draft-inadarei-api-health-check). */
export interface HealthBody {
  status: Status
  description?: string
  notes?: string[]
  checks?: Record<string, Array<Omit<CheckOutcome, 'name' | 'measurement' | 'critical'> & { componentType?: string }>>
}

/** The readiness verdict: the checks', or fail while draining. */
export function verdict (result: RunResult, draining: boolean): Status {
  return draining ? 'fail' : result.status
}

export function healthBody (result: RunResult, draining: boolean, details: boolean): HealthBody {
  const body: HealthBody = { status: verdict(result, draining) }
  if (!details) return body
  if (draining) body.notes = ['draining: shutting down']
  const checks: NonNullable<HealthBody['checks']> = {}
  for (const o of result.outcomes) {
    const entry: NonNullable<HealthBody['checks']>[string][number] = { status: o.status, time: o.time }
    if (o.observedValue !== undefined) entry.observedValue = o.observedValue
    if (o.observedUnit !== undefined) entry.observedUnit = o.observedUnit
    if (o.output !== undefined) entry.output = o.output
    ;(checks[`${o.name}:${o.measurement}`] ??= []).push(entry)
  }
  body.checks = checks
  return body
}
