import { performance, type EventLoopUtilization } from 'node:perf_hooks'

/** How often the sampling timer is due (ms); its lateness is the event-loop delay. */
export const SAMPLE_MS = 20
/** A loop late by at least this much is stalled (ms): well above a busy loop's jitter. */
export const STALL_MS = 100

/** What one reader saw since its previous `read()`. */
export interface EventLoopReading {
  /** mean delay of the loop over the period, ms */
  meanDelay: number
  /** the worst delay over the period, ms, a stall that ends just now included */
  maxDelay: number
  /** share of the period the loop was busy, 0..1 */
  utilization: number
}

/** One consumer's view: each `read()` covers the time since its previous one. */
export interface EventLoopReader {
  read (): EventLoopReading
  close (): void
}

/** The process's one event-loop sampler, shared by cluster-boot's stats, @corral/metrics and @corral/health. */
export interface EventLoopMonitor {
  /** seconds spent in stalls of STALL_MS or more since the process started, and how many */
  readonly stalledSeconds: number
  readonly stalls: number
  reader (): EventLoopReader
}

interface Period { sum: number, count: number, max: number, elu: EventLoopUtilization }

/**
 * Measures how late a SAMPLE_MS timer fires. Unlike a delay histogram reset
 * at each report, nothing is lost to ordering: a read right after a stall,
 * before the timer has fired, measures the stall itself, and each reader
 * keeps its own worst delay until it reads it.
 */
class Monitor implements EventLoopMonitor {
  stalledSeconds = 0
  stalls = 0
  private readonly periods = new Set<Period>()
  private due = performance.now() + SAMPLE_MS
  private timer: NodeJS.Timeout | undefined

  reader (): EventLoopReader {
    const period: Period = { sum: 0, count: 0, max: 0, elu: performance.eventLoopUtilization() }
    this.periods.add(period)
    this.start()
    return {
      read: () => this.read(period),
      close: () => {
        this.periods.delete(period)
        if (this.periods.size === 0) this.stop()
      }
    }
  }

  private start (): void {
    if (this.timer !== undefined) return
    this.due = performance.now() + SAMPLE_MS
    this.timer = setInterval(() => this.tick(), SAMPLE_MS)
    this.timer.unref()
  }

  private stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private tick (): void {
    const now = performance.now()
    const late = Math.max(0, now - this.due)
    this.due = now + SAMPLE_MS
    if (late >= STALL_MS) {
      this.stalledSeconds += late / 1000
      this.stalls++
    }
    for (const p of this.periods) {
      p.sum += late
      p.count++
      if (late > p.max) p.max = late
    }
  }

  private read (p: Period): EventLoopReading {
    // the timer may not have fired since a stall that just ended: its lateness now counts
    const pending = Math.max(0, performance.now() - this.due)
    const elu = performance.eventLoopUtilization()
    const reading = {
      meanDelay: p.count === 0 ? pending : p.sum / p.count,
      maxDelay: Math.max(p.max, pending),
      utilization: performance.eventLoopUtilization(elu, p.elu).utilization
    }
    p.sum = 0
    p.count = 0
    p.max = 0
    p.elu = elu
    return reading
  }
}

const KEY = Symbol.for('corral.event-loop-monitor')
type Holder = { [KEY]?: EventLoopMonitor }

/** The process's event-loop monitor; kept on globalThis so that two copies of this package share one timer. */
export function eventLoopMonitor (): EventLoopMonitor {
  const holder = globalThis as Holder
  holder[KEY] ??= new Monitor()
  return holder[KEY]
}
