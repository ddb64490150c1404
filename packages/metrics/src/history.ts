import type { ExitInfo, ReloadResult, SupervisorEvents, SupervisorView, WorkerInfo } from '@corral/cluster-boot'
import type { MetricsAggregator } from './metrics-aggregator.js'
import type { MetricJSON } from './exposition.js'
import { unresponsive } from './workers-view.js'

/** One point of one worker (or of the total) on the dashboard's charts. */
export interface Point {
  /** requests and 5xx answers per second over the last step */
  rps: number
  errors: number
  /** latency quantiles over the last step, ms (null without requests) */
  p50: number | null
  p99: number | null
  inFlight: number
  /** bytes */
  rss: number | null
  heap: number | null
  /** the longest event-loop delay over the last step, ms */
  lag: number
  /** event-loop utilisation, 0..1 */
  elu: number | null
}

export interface Sample { t: number, total: Point, workers: Record<number, Point> }

export type MarkerKind = 'crash' | 'restart' | 'reload' | 'memory' | 'unresponsive'
export interface Marker { t: number, kind: MarkerKind, slot: number | null, pid: number | null, detail: string }

/** GET <workers>/history: what came after `since`. */
export interface HistoryView {
  step: number
  now: number
  samples: Sample[]
  markers: Marker[]
  /** per slot, why its last worker that did not exit on request went */
  lastErrors: Record<number, { t: number, detail: string }>
}

export interface HistorySettings {
  /** ms between two samples */
  step: number
  /** samples kept (15 min at one a second: 900) */
  capacity: number
  now?: () => number
}

const MARKERS_KEPT = 500
const DURATION = 'http_request_duration_seconds'

/** What a worker's counts were at the previous sample. */
interface Previous { requests: number, errors: number, buckets: Map<number, number> }

function gaugeOf (metrics: MetricJSON[], suffix: string): number | null {
  const m = metrics.find((x) => x.name.endsWith(suffix))
  return m === undefined || m.values.length === 0 ? null : m.values[0].value
}

/** Cumulative request counts by upper bound (s), over every route of the worker. */
function bucketsOf (metrics: MetricJSON[]): Map<number, number> {
  const out = new Map<number, number>()
  const m = metrics.find((x) => x.name === DURATION)
  for (const v of m?.values ?? []) {
    if (v.metricName !== `${DURATION}_bucket`) continue
    const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le)
    out.set(le, (out.get(le) ?? 0) + v.value)
  }
  return out
}

/** The q-quantile (ms) of the requests between two cumulative bucket counts, interpolated like histogram_quantile. */
export function quantile (q: number, delta: Map<number, number>): number | null {
  const total = delta.get(Infinity) ?? 0
  if (total <= 0) return null
  const bounds = [...delta.keys()].filter((le) => le !== Infinity).sort((a, b) => a - b)
  const rank = q * total
  let below = 0
  let lower = 0
  for (const le of bounds) {
    const count = delta.get(le) as number
    if (count >= rank) {
      const inBucket = count - below
      return (lower + (le - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket)) * 1000
    }
    below = count
    lower = le
  }
  // past the last bound: the last bound, as histogram_quantile says
  return lower * 1000
}

function minus (now: Map<number, number>, before: Map<number, number> | undefined): Map<number, number> {
  const out = new Map<number, number>()
  for (const [le, n] of now) out.set(le, Math.max(0, n - (before?.get(le) ?? 0)))
  return out
}

function addInto (into: Map<number, number>, from: Map<number, number>): void {
  for (const [le, n] of from) into.set(le, (into.get(le) ?? 0) + n)
}

/**
 * The dashboard's memory: every `step` a point per worker and for the whole
 * machine, in a ring of `capacity` samples kept in the primary, so a page
 * opened late still draws the last minutes; and markers for what the
 * supervisor did (restarts, crashes, reloads, memory restarts) and for
 * workers that stopped pushing.
 */
export class History {
  private readonly ring: Sample[] = []
  private start = 0
  private readonly markers: Marker[] = []
  private readonly lastErrors: Record<number, { t: number, detail: string }> = {}
  private readonly previous = new Map<number, Previous>()
  private readonly unresponsive = new Set<number>()
  private lastAt: number
  private readonly now: () => number
  private readonly timer: NodeJS.Timeout
  private readonly listeners: Array<[keyof SupervisorEvents, (...args: any[]) => void]>

  constructor (private readonly supervisor: SupervisorView, private readonly aggregator: MetricsAggregator, private readonly settings: HistorySettings) {
    this.now = settings.now ?? Date.now
    this.lastAt = this.now()
    this.listeners = [
      ['exit', (record: WorkerInfo, info: ExitInfo) => {
        if (info.expected) return
        const detail = info.signal !== null ? `killed by ${info.signal}` : `exited with code ${String(info.code)}`
        this.lastErrors[record.slot] = { t: this.now(), detail }
        this.mark('crash', record, detail)
      }],
      ['restart', (record: WorkerInfo, old: WorkerInfo, reason: string) => {
        // a rolling reload gets one marker of its own when it ends
        if (reason === 'reload') return
        this.mark(reason === 'maxMemory' ? 'memory' : 'restart', record, `pid ${old.pid} replaced by ${record.pid}`)
      }],
      ['crashloop', (err: Error) => { this.mark('crash', null, err.message) }],
      ['reload', (result: ReloadResult) => {
        this.mark('reload', null, result.ok ? `slots ${result.replaced.join(', ')} replaced` : `stopped at slot ${String(result.failedSlot)}`)
      }]
    ]
    for (const [event, fn] of this.listeners) supervisor.on(event, fn)
    this.timer = setInterval(() => this.sample(), settings.step)
    this.timer.unref()
  }

  close (): void {
    clearInterval(this.timer)
    for (const [event, fn] of this.listeners) this.supervisor.off(event, fn)
  }

  /** Samples and markers after `since` (ms since the epoch). */
  view (since = 0): HistoryView {
    const samples: Sample[] = []
    for (let i = 0; i < this.ring.length; i++) {
      const s = this.ring[(this.start + i) % this.ring.length]
      if (s.t > since) samples.push(s)
    }
    return { step: this.settings.step, now: this.now(), samples, markers: this.markers.filter((m) => m.t > since), lastErrors: this.lastErrors }
  }

  /** Takes one sample of every live worker: rates over the time since the previous one. */
  sample (): Sample {
    const now = this.now()
    const seconds = Math.max((now - this.lastAt) / 1000, 0.001)
    const total: Point = { rps: 0, errors: 0, p50: null, p99: null, inFlight: 0, rss: null, heap: null, lag: 0, elu: null }
    const totalBuckets = new Map<number, number>()
    const workers: Record<number, Point> = {}
    const seen = new Set<number>()
    let elus = 0
    for (const record of this.supervisor.workers()) {
      const latest = this.aggregator.latest(record)
      if (latest === undefined) continue
      seen.add(record.id)
      const snap = latest.snapshot
      const before = this.previous.get(record.id)
      const buckets = bucketsOf(snap.metrics)
      const delta = minus(buckets, before?.buckets)
      addInto(totalBuckets, delta)
      this.previous.set(record.id, { requests: snap.requests, errors: snap.errors, buckets })
      const point: Point = {
        rps: (snap.requests - (before?.requests ?? 0)) / seconds,
        errors: (snap.errors - (before?.errors ?? 0)) / seconds,
        p50: quantile(0.5, delta),
        p99: quantile(0.99, delta),
        inFlight: snap.inFlight,
        rss: gaugeOf(snap.metrics, 'process_resident_memory_bytes'),
        heap: gaugeOf(snap.metrics, 'nodejs_heap_size_used_bytes'),
        lag: this.aggregator.stallPeak(record) * 1000,
        elu: gaugeOf(snap.metrics, 'nodejs_eventloop_utilization_ratio')
      }
      // during a reload two workers share a slot: the newer one is drawn, the totals count both
      workers[record.slot] = point
      total.rps += point.rps
      total.errors += point.errors
      total.inFlight += point.inFlight
      total.rss = (total.rss ?? 0) + (point.rss ?? 0)
      total.heap = (total.heap ?? 0) + (point.heap ?? 0)
      total.lag = Math.max(total.lag, point.lag)
      total.elu = (total.elu ?? 0) + (point.elu ?? 0)
      elus++
      this.watch(record, now - latest.receivedAt, latest.gap)
    }
    for (const id of this.previous.keys()) if (!seen.has(id)) this.previous.delete(id)
    total.p50 = quantile(0.5, totalBuckets)
    total.p99 = quantile(0.99, totalBuckets)
    if (total.elu !== null) total.elu /= elus
    this.lastAt = now
    const s: Sample = { t: now, total, workers }
    if (this.ring.length < this.settings.capacity) this.ring.push(s)
    else {
      this.ring[this.start] = s
      this.start = (this.start + 1) % this.settings.capacity
    }
    return s
  }

  /** Marks a worker unresponsive once, when its pushes stop (or cluster-boot says so). */
  private watch (record: WorkerInfo, age: number, gap: number): void {
    const stuck = unresponsive(record, age, gap)
    if (stuck && !this.unresponsive.has(record.id)) {
      this.unresponsive.add(record.id)
      this.mark('unresponsive', record, `no metrics for ${Math.round(age / 100) / 10} s`)
    } else if (!stuck) this.unresponsive.delete(record.id)
  }

  private mark (kind: MarkerKind, record: WorkerInfo | null, detail: string): void {
    this.markers.push({ t: this.now(), kind, slot: record?.slot ?? null, pid: record?.pid ?? null, detail })
    if (this.markers.length > MARKERS_KEPT) this.markers.shift()
  }
}
