import type { Aggregator } from 'prom-client'
import { aggregators } from './prom-aggregators.js'
import type { MetricJSON, MetricKind, SampleJSON } from './exposition.js'

/** The IPC bus namespace snapshots travel on. */
export const NAMESPACE = 'corral.metrics'

type LabelValue = string | number | null
/** A number, or 'NaN' / 'Infinity' / '-Infinity', which JSON cannot carry. */
type WireNumber = number | string

/**
 * One metric on the wire. Label names are sent once per metric, not once per
 * sample; a histogram (or summary) row carries all its buckets (quantiles),
 * its sum and count, so its labels travel once instead of buckets + 2 times.
 */
export interface WireMetric {
  /** name, help, type, aggregator */
  n: string
  h: string
  t: MetricKind
  a: Aggregator
  /** label names of the rows (without `le` or `quantile`) */
  k: string[]
  /** histogram bucket bounds (`le`) or summary quantiles, shared by every row */
  b?: Array<number | string>
  /** counter and gauge rows: [labelValues, value]; histogram and summary rows: [labelValues, perBound, sum, count] */
  r: Array<[LabelValue[], WireNumber] | [LabelValue[], WireNumber[], WireNumber, WireNumber]>
}

/** What a worker pushes to the primary. */
export interface WireSnapshot {
  v: 1
  /** push number, from 1 */
  seq: number
  /** when it was taken (ms since the epoch) */
  at: number
  /** HTTP requests answered and those answered with a 5xx, since the worker started */
  requests: number
  errors: number
  inFlight: number
  /** series left out because of maxSeries */
  truncated: number
  m: WireMetric[]
}

/** A snapshot checked and turned back into prom-client's JSON shape. */
export interface Snapshot {
  seq: number
  at: number
  requests: number
  errors: number
  inFlight: number
  truncated: number
  series: number
  metrics: MetricJSON[]
}

const KINDS = new Set<string>(['counter', 'gauge', 'histogram', 'summary'])
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
// names starting with __ are Prometheus' own (and __proto__ is no label to set on an object)
const LABEL = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$/
/** what a number weighs in the byte budget (its size in the JSON that carried it, at most) */
const NUMBER_BYTES = 24

function wireNumber (value: number): WireNumber {
  return Number.isFinite(value) ? value : String(value)
}

function keyOf (labels: Record<string, unknown>, names: string[]): LabelValue[] {
  const out: LabelValue[] = new Array(names.length)
  for (let i = 0; i < names.length; i++) {
    const v = labels[names[i]]
    out[i] = v === undefined ? null : v as string | number
  }
  return out
}

/** Turns prom-client's JSON into the compact wire form, keeping at most `budget` series. */
export function encodeMetrics (metrics: MetricJSON[], budget: number): { m: WireMetric[], series: number, truncated: number } {
  const out: WireMetric[] = []
  let series = 0
  let truncated = 0
  for (const metric of metrics) {
    const bucketed = metric.type === 'histogram' || metric.type === 'summary'
    const bound = metric.type === 'histogram' ? 'le' : 'quantile'
    const names = new Set<string>()
    for (const sample of metric.values) for (const name in sample.labels) if (!bucketed || name !== bound) names.add(name)
    const k = [...names]
    const wire: WireMetric = { n: metric.name, h: metric.help, t: metric.type, a: metric.aggregator ?? 'sum', k, r: [] }

    if (!bucketed) {
      for (const sample of metric.values) {
        if (series >= budget) { truncated++; continue }
        wire.r.push([keyOf(sample.labels, k), wireNumber(sample.value)])
        series++
      }
    } else {
      const bounds: Array<number | string> = []
      const boundIndex = new Map<number | string, number>()
      const rows = new Map<string, [LabelValue[], WireNumber[], WireNumber, WireNumber]>()
      for (const sample of metric.values) {
        const labelValues = keyOf(sample.labels, k)
        const id = JSON.stringify(labelValues)
        let row = rows.get(id)
        if (row === undefined) {
          row = [labelValues, [], 0, 0]
          rows.set(id, row)
        }
        const suffix = sample.metricName?.slice(metric.name.length)
        if (suffix === '_sum') row[2] = wireNumber(sample.value)
        else if (suffix === '_count') row[3] = wireNumber(sample.value)
        else {
          const b = sample.labels[bound]
          let i = boundIndex.get(b)
          if (i === undefined) {
            i = bounds.length
            bounds.push(b)
            boundIndex.set(b, i)
          }
          row[1][i] = wireNumber(sample.value)
        }
      }
      wire.b = bounds
      for (const row of rows.values()) {
        if (series + bounds.length + 2 > budget) { truncated += bounds.length + 2; continue }
        wire.r.push(row)
        series += bounds.length + 2
      }
    }
    out.push(wire)
  }
  return { m: out, series, truncated }
}

function readNumber (value: unknown): number | undefined {
  if (typeof value === 'number') return value
  if (value === 'NaN') return NaN
  if (value === 'Infinity') return Infinity
  if (value === '-Infinity') return -Infinity
  return undefined
}

function count (value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined
}

/** What is left of a snapshot's allowance: series, and bytes of its strings and numbers. */
interface Budget { left: number, bytes: number }

class Malformed extends Error {}
class TooLarge extends Error {}

function spend (budget: Budget, bytes: number): void {
  budget.bytes -= bytes
  if (budget.bytes < 0) throw new TooLarge('bytes')
}

function labelsOf (names: string[], values: unknown, budget: Budget): Record<string, string | number> | undefined {
  if (!Array.isArray(values) || values.length !== names.length) return undefined
  const labels: Record<string, string | number> = {}
  for (let i = 0; i < names.length; i++) {
    const v = values[i]
    if (v === null) continue
    if (typeof v !== 'string' && typeof v !== 'number') return undefined
    spend(budget, typeof v === 'string' ? v.length : NUMBER_BYTES)
    labels[names[i]] = v
  }
  return labels
}

function decodeMetric (raw: unknown, budget: Budget): MetricJSON {
  if (raw === null || typeof raw !== 'object') throw new Malformed('metric is not an object')
  const w = raw as Record<string, unknown>
  if (typeof w.n !== 'string' || !NAME.test(w.n)) throw new Malformed('bad metric name')
  if (typeof w.h !== 'string' || typeof w.t !== 'string' || !KINDS.has(w.t)) throw new Malformed(`bad help or type of ${w.n}`)
  if (typeof w.a !== 'string' || !Object.hasOwn(aggregators, w.a)) throw new Malformed(`bad aggregator of ${w.n}`)
  if (!Array.isArray(w.k) || !w.k.every((l) => typeof l === 'string' && LABEL.test(l))) throw new Malformed(`bad label names of ${w.n}`)
  if (!Array.isArray(w.r)) throw new Malformed(`no rows in ${w.n}`)
  const names = w.k as string[]
  spend(budget, w.n.length + w.h.length + names.reduce((n, l) => n + l.length, 0))
  const type = w.t as MetricKind
  const values: SampleJSON[] = []

  if (type === 'counter' || type === 'gauge') {
    for (const row of w.r) {
      if (--budget.left < 0) throw new TooLarge('series')
      spend(budget, NUMBER_BYTES)
      const labels = Array.isArray(row) && row.length === 2 ? labelsOf(names, row[0], budget) : undefined
      const value = Array.isArray(row) ? readNumber(row[1]) : undefined
      if (labels === undefined || value === undefined) throw new Malformed(`bad row in ${w.n}`)
      values.push({ value, labels })
    }
  } else {
    const bound = type === 'histogram' ? 'le' : 'quantile'
    const bounds = w.b
    if (!Array.isArray(bounds) || !bounds.every((b) => typeof b === 'number' || b === '+Inf')) throw new Malformed(`bad bounds in ${w.n}`)
    spend(budget, bounds.length * NUMBER_BYTES)
    if (names.includes(bound)) throw new Malformed(`${bound} among the labels of ${w.n}`)
    for (const row of w.r) {
      budget.left -= bounds.length + 2
      if (budget.left < 0) throw new TooLarge('series')
      spend(budget, (bounds.length + 2) * NUMBER_BYTES)
      const ok = Array.isArray(row) && row.length === 4 && Array.isArray(row[1]) && row[1].length === bounds.length
      const labels = ok ? labelsOf(names, row[0], budget) : undefined
      const sum = ok ? readNumber(row[2]) : undefined
      const total = ok ? readNumber(row[3]) : undefined
      if (labels === undefined || sum === undefined || total === undefined) throw new Malformed(`bad row in ${w.n}`)
      for (let i = 0; i < bounds.length; i++) {
        const value = readNumber(row[1][i])
        if (value === undefined) throw new Malformed(`bad bucket in ${w.n}`)
        values.push(type === 'histogram'
          ? { value, labels: { le: bounds[i], ...labels }, metricName: `${w.n}_bucket` }
          : { value, labels: { quantile: bounds[i], ...labels } })
      }
      values.push({ value: sum, labels, metricName: `${w.n}_sum` })
      values.push({ value: total, labels, metricName: `${w.n}_count` })
    }
  }
  return { name: w.n, help: w.h, type, aggregator: w.a as Aggregator, values }
}

export type DecodeResult = { ok: true, snapshot: Snapshot } | { ok: false, reason: 'malformed' | 'too_large', detail: string }

/**
 * Checks what a worker sent and rebuilds prom-client's JSON; anything off is
 * rejected whole, and so is a snapshot past `maxSeries` series or `maxBytes`
 * bytes of names, help texts, label values and numbers (rows alone do not
 * bound it: one row can carry a label value of megabytes).
 */
export function decodeSnapshot (raw: unknown, maxSeries: number, maxBytes = Infinity): DecodeResult {
  try {
    if (raw === null || typeof raw !== 'object') throw new Malformed('not an object')
    const s = raw as Record<string, unknown>
    if (s.v !== 1) throw new Malformed('unknown version')
    const seq = count(s.seq)
    const at = count(s.at)
    const requests = count(s.requests)
    const errors = count(s.errors)
    const inFlight = count(s.inFlight)
    const truncated = count(s.truncated)
    if (seq === undefined || at === undefined || requests === undefined || errors === undefined || inFlight === undefined || truncated === undefined) {
      throw new Malformed('bad header fields')
    }
    if (!Array.isArray(s.m)) throw new Malformed('no metrics')
    const budget: Budget = { left: maxSeries, bytes: maxBytes }
    const seen = new Set<string>()
    const metrics: MetricJSON[] = []
    for (const m of s.m) {
      const metric = decodeMetric(m, budget)
      if (seen.has(metric.name)) throw new Malformed(`${metric.name} twice`)
      seen.add(metric.name)
      metrics.push(metric)
    }
    return { ok: true, snapshot: { seq, at, requests, errors, inFlight, truncated, series: maxSeries - budget.left, metrics } }
  } catch (err) {
    if (err instanceof TooLarge) return { ok: false, reason: 'too_large', detail: err.message === 'series' ? `more than ${maxSeries} series` : `more than ${maxBytes} bytes` }
    return { ok: false, reason: 'malformed', detail: (err as Error).message }
  }
}
