import { Gauge, type Registry } from 'prom-client'

/** Options of a meter: a rate of events, like @pm2/io's `meter`. */
export interface MeterOptions {
  /** metric name */
  name: string
  /** metric help text */
  help: string
  /** seconds of history the rate is computed over (default 60; @pm2/io's `timeframe`) */
  timeframe?: number
  /** the rate is events per this many seconds (default 1; @pm2/io's `samples`) */
  unit?: number
}

/** Counts events and reports their rate over a sliding window. */
export interface Meter {
  /** counts `n` events (default 1) */
  mark (n?: number): void
  /** events per `unit` seconds over the last `timeframe` seconds (or since creation, if sooner) */
  rate (): number
  /** the gauge the rate is exposed as */
  readonly gauge: Gauge
}

const SLOTS = 60

/**
 * A sliding window of `SLOTS` buckets over `timeframe`: marking is one
 * addition, and the rate is what the window holds divided by the time it
 * covers. Exposed as a gauge summed across workers (rates add up).
 */
export function createMeter (registry: Registry, opts: MeterOptions, now: () => number = Date.now): Meter {
  const timeframe = (opts.timeframe ?? 60) * 1000
  const unit = (opts.unit ?? 1) * 1000
  const width = timeframe / SLOTS
  const buckets = new Float64Array(SLOTS)
  const started = now()
  let current = Math.floor(started / width)

  // moves the window to `tick`, emptying the buckets it passed
  const advance = (tick: number): void => {
    if (tick <= current) return
    const steps = Math.min(tick - current, SLOTS)
    for (let i = 1; i <= steps; i++) buckets[(current + i) % SLOTS] = 0
    current = tick
  }

  const meter: Meter = {
    mark (n = 1) {
      advance(Math.floor(now() / width))
      buckets[current % SLOTS] += n
    },
    rate () {
      const t = now()
      advance(Math.floor(t / width))
      let events = 0
      for (let i = 0; i < SLOTS; i++) events += buckets[i]
      const windowStart = (current - SLOTS + 1) * width
      const covered = Math.max(t - Math.max(started, windowStart), width)
      return events / covered * unit
    },
    gauge: new Gauge({
      name: opts.name,
      help: opts.help,
      registers: [registry],
      aggregator: 'sum',
      collect () { this.set(meter.rate()) }
    })
  }
  return meter
}
