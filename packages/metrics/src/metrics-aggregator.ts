import { aggregators } from './prom-aggregators.js'
import type { MetricJSON, SampleJSON } from './exposition.js'
import { LAG_MAX } from './process-metrics.js'
import { decodeSnapshot, type Snapshot } from './snapshot.js'

/** What the aggregator needs of a cluster-boot WorkerRecord. */
export interface WorkerRef {
  readonly slot: number
  readonly id: number
  readonly pid: number
  readonly state: string
}

export type DropReason = 'malformed' | 'too_large' | 'stale' | 'late'

interface Entry {
  worker: WorkerRef
  snapshot: Snapshot
  receivedAt: number
  /** ms between the worker's last two snapshots (its push interval, as it runs), 0 after the first */
  gap: number
  /** the longest event-loop delay among the snapshots received since the last scrape, and since the last `stallPeak()` */
  peak: number
  samplePeak: number
  /** set when the process exited; its counters and histograms stay in the sum */
  diedAt: number | undefined
}

/** Requests and 5xx answers counted by workers that are gone. */
interface Tally { requests: number, errors: number }

export interface AggregatorSettings {
  perWorker: boolean
  /** the most series one snapshot may carry, and one slot's retired counts may keep */
  maxSeries: number
  /** the most bytes of strings and numbers one snapshot may carry (default: no limit) */
  maxBytes?: number
  onDrop?: (reason: DropReason, worker: WorkerRef, detail: string) => void
  now?: () => number
}

/**
 * How long a dead worker's entry waits before it is folded into its slot's
 * retired totals: a message can still be read from the channel after the
 * exit event, and that last snapshot must replace, not add to, the one before.
 */
export const LATE_GRACE_MS = 5000

const MONOTONIC = new Set(['counter', 'histogram'])

/** Merging these across workers is meaningless (a sum or mean of quantiles), so each worker keeps its own series. */
function unmergeable (metric: MetricJSON): boolean {
  return metric.type === 'summary' || (metric.type === 'gauge' && metric.aggregator === 'average')
}

/** The `le` bounds of a histogram, as a string to compare. */
function boundsOf (metric: MetricJSON): string {
  const bounds: Array<string | number> = []
  const suffix = `${metric.name}_bucket`
  let first: string | undefined
  for (const v of metric.values) {
    if (v.metricName !== suffix) continue
    const { le, ...rest } = v.labels
    const id = JSON.stringify(rest)
    if (first === undefined) first = id
    else if (id !== first) break
    bounds.push(le)
  }
  return bounds.join(',')
}

function sameBuckets (a: MetricJSON, b: MetricJSON): boolean {
  if (a.type !== 'histogram') return true
  const x = boundsOf(a)
  const y = boundsOf(b)
  return x === '' || y === '' || x === y
}

/** One series of a family, whatever the order of its labels. */
function seriesKey (v: SampleJSON): string {
  return `${v.metricName ?? ''}{${Object.keys(v.labels).sort().map((k) => `${k}=${JSON.stringify(v.labels[k])}`).join(',')}}`
}

/** The longest event-loop delay a snapshot carries (seconds), 0 without one. */
function lagMaxOf (snapshot: Snapshot): number {
  let max = 0
  for (const m of snapshot.metrics) {
    if (!m.name.endsWith(LAG_MAX)) continue
    for (const v of m.values) if (v.value > max) max = v.value
  }
  return max
}

function withWorker (metric: MetricJSON, slot: number): MetricJSON {
  const worker = String(slot)
  const values: SampleJSON[] = metric.values.map((v) => ({ ...v, labels: { ...v.labels, worker } }))
  return { ...metric, values }
}

/** The metrics with the longest event-loop delay raised to `peak`. */
function withPeak (metrics: MetricJSON[], peak: number): MetricJSON[] {
  return metrics.map((m) => m.name.endsWith(LAG_MAX)
    ? { ...m, values: m.values.map((v) => ({ ...v, value: Math.max(v.value, peak) })) }
    : m)
}

/**
 * prom-client's cluster aggregation (AggregatorRegistry.aggregate: group by
 * name, apply each metric's `aggregator`), synchronous, to plain objects.
 */
export function aggregate (members: MetricJSON[][]): MetricJSON[] {
  const byName = new Map<string, MetricJSON[]>()
  for (const metrics of members) {
    for (const metric of metrics) {
      const group = byName.get(metric.name)
      if (group === undefined) byName.set(metric.name, [metric])
      else group.push(metric)
    }
  }
  const out: MetricJSON[] = []
  for (const group of byName.values()) {
    const merged = aggregators[group[0].aggregator](group)
    if (merged !== undefined) out.push(merged)
  }
  return out
}

/**
 * The primary's side of the metrics: the latest snapshot of every worker,
 * and what dead workers counted, merged on demand without asking anyone.
 */
export class MetricsAggregator {
  readonly dropped: Record<DropReason, number> = { malformed: 0, too_large: 0, stale: 0, late: 0 }
  received = 0
  /** series of dead workers left out of their slot's retired totals because of maxSeries */
  retiredDropped = 0
  private readonly entries = new Map<WorkerRef, Entry>()
  /** per slot: counters and histograms of its dead workers, already merged */
  private readonly retired = new Map<number, MetricJSON[]>()
  private readonly retiredTally: Tally = { requests: 0, errors: 0 }
  private version = 0
  private cache: { version: number, metrics: MetricJSON[] } | undefined
  private readonly now: () => number

  constructor (private readonly settings: AggregatorSettings) {
    this.now = settings.now ?? Date.now
  }

  /** A snapshot message from `worker`; anything wrong with it is dropped and counted. */
  receive (data: unknown, worker: WorkerRef): void {
    const entry = this.entries.get(worker)
    if (entry === undefined && worker.state === 'exited') return this.drop('late', worker, 'after the worker was retired')
    const result = decodeSnapshot(data, this.settings.maxSeries, this.settings.maxBytes)
    if (!result.ok) return this.drop(result.reason, worker, result.detail)
    if (entry !== undefined && result.snapshot.seq <= entry.snapshot.seq) return this.drop('stale', worker, `seq ${result.snapshot.seq}`)
    this.received++
    const lag = lagMaxOf(result.snapshot)
    const now = this.now()
    this.entries.set(worker, {
      worker,
      snapshot: result.snapshot,
      receivedAt: now,
      // timed by the primary's clock: a worker's own `at` could claim any interval and never look silent
      gap: entry === undefined ? 0 : now - entry.receivedAt,
      peak: Math.max(entry?.peak ?? 0, lag),
      samplePeak: Math.max(entry?.samplePeak ?? 0, lag),
      diedAt: entry?.diedAt
    })
    this.version++
  }

  /**
   * A scrape was answered: the longest event-loop delays start over. Until
   * then each worker's is the longest of all the snapshots it pushed since
   * the previous scrape, so a stall shows in the next scrape whatever the
   * scrape interval, not only while it is in the latest snapshot.
   */
  scraped (): void {
    let changed = false
    for (const e of this.entries.values()) {
      if (e.peak !== 0) changed = true
      e.peak = 0
    }
    if (changed) this.version++
  }

  /** The longest event-loop delay (s) of a worker's snapshots since the previous call, for the dashboard's history. */
  stallPeak (worker: WorkerRef): number {
    const e = this.entries.get(worker) as Entry
    const peak = e.samplePeak
    e.samplePeak = 0
    return peak
  }

  /** The worker's process is gone: its gauges leave the output, its counts stay. */
  exited (worker: WorkerRef): void {
    const entry = this.entries.get(worker)
    if (entry === undefined || entry.diedAt !== undefined) return
    entry.diedAt = this.now()
    this.version++
  }

  /** Latest snapshot of each live worker, with when it arrived. */
  latest (worker: WorkerRef): { snapshot: Snapshot, receivedAt: number, gap: number } | undefined {
    return this.entries.get(worker)
  }

  /** Requests and 5xx answers of every worker there has been. */
  totals (): Tally {
    this.fold()
    const t = { ...this.retiredTally }
    for (const e of this.entries.values()) {
      t.requests += e.snapshot.requests
      t.errors += e.snapshot.errors
    }
    return t
  }

  /** Series in the latest snapshots of live workers. */
  series (): number {
    let n = 0
    for (const e of this.entries.values()) if (e.diedAt === undefined) n += e.snapshot.series
    return n
  }

  /** Every worker's metrics merged: counters and histograms summed (dead workers included), gauges per their aggregator. */
  metrics (): MetricJSON[] {
    this.fold()
    if (this.cache?.version === this.version) return this.cache.metrics
    const members: Array<{ slot: number, live: boolean, newest: number, metrics: MetricJSON[] }> = []
    for (const [slot, metrics] of this.retired) members.push({ slot, live: false, newest: -1, metrics })
    for (const e of this.entries.values()) {
      const live = e.diedAt === undefined
      members.push({ slot: e.worker.slot, live, newest: e.worker.id, metrics: live ? withPeak(e.snapshot.metrics, e.peak) : e.snapshot.metrics.filter((m) => MONOTONIC.has(m.type)) })
    }

    // the newest worker defines each metric's type and histogram buckets (a deploy may change them)
    const reference = new Map<string, { type: string, bounds: string }>()
    for (const member of [...members].sort((a, b) => b.newest - a.newest)) {
      for (const m of member.metrics) {
        const ref = reference.get(m.name)
        if (ref === undefined) reference.set(m.name, { type: m.type, bounds: m.type === 'histogram' ? boundsOf(m) : '' })
        // a histogram with no observations yet says nothing about its buckets
        else if (ref.bounds === '' && ref.type === m.type && m.type === 'histogram') ref.bounds = boundsOf(m)
      }
    }

    const { perWorker } = this.settings
    const prepared: MetricJSON[][] = members.map((member) => {
      const out: MetricJSON[] = []
      for (const m of member.metrics) {
        const ref = reference.get(m.name)
        if (ref === undefined || ref.type !== m.type) continue
        const bounds = m.type === 'histogram' ? boundsOf(m) : ''
        const otherBuckets = bounds !== '' && ref.bounds !== '' && bounds !== ref.bounds
        if (otherBuckets && !member.live) continue
        out.push(perWorker || otherBuckets || unmergeable(m) ? withWorker(m, member.slot) : m)
      }
      return out
    })
    const metrics = aggregate(prepared)
    this.cache = { version: this.version, metrics }
    return metrics
  }

  /** Folds dead workers' entries into their slot's retired totals once no late message can come. */
  private fold (): void {
    const now = this.now()
    for (const [worker, e] of this.entries) {
      if (e.diedAt === undefined || now - e.diedAt < LATE_GRACE_MS) continue
      this.entries.delete(worker)
      const kept = e.snapshot.metrics.filter((m) => MONOTONIC.has(m.type))
      const base = this.retired.get(worker.slot)
      this.retired.set(worker.slot, this.capped(base, base === undefined ? kept : this.mergeRetired(base, kept)))
      this.retiredTally.requests += e.snapshot.requests
      this.retiredTally.errors += e.snapshot.errors
      this.version++
    }
  }

  /**
   * At most maxSeries retired series per slot: a worker that makes up new
   * label values each time it starts would otherwise grow its slot's totals
   * without end. Past the cap, the series the slot already had keep adding
   * up (they stay monotonic) and new ones are left out and counted.
   */
  private capped (base: MetricJSON[] | undefined, merged: MetricJSON[]): MetricJSON[] {
    let series = 0
    for (const m of merged) series += m.values.length
    // a first dead worker fits: its snapshot was within maxSeries
    if (base === undefined || series <= this.settings.maxSeries) return merged
    const known = new Map(base.map((m) => [m.name, new Set(m.values.map(seriesKey))]))
    const out: MetricJSON[] = []
    for (const m of merged) {
      const keys = known.get(m.name)
      const values = keys === undefined ? [] : m.values.filter((v) => keys.has(seriesKey(v)))
      this.retiredDropped += m.values.length - values.length
      if (values.length > 0) out.push({ ...m, values })
    }
    return out
  }

  /** Sums a slot's retired counts with a newly dead worker's; a histogram whose buckets changed restarts from the new one. */
  private mergeRetired (base: MetricJSON[], dead: MetricJSON[]): MetricJSON[] {
    const deadByName = new Map(dead.map((m) => [m.name, m]))
    const kept = base.filter((m) => {
      const next = deadByName.get(m.name)
      return next === undefined || (next.type === m.type && sameBuckets(m, next))
    })
    return aggregate([kept, dead])
  }

  private drop (reason: DropReason, worker: WorkerRef, detail: string): void {
    this.dropped[reason]++
    this.settings.onDrop?.(reason, worker, detail)
  }
}
