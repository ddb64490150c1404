import { performance } from 'node:perf_hooks'

/** A loop late by at least this much is stalled (ms): well above a busy loop's jitter. */
export const STALL_MS = 100

/**
 * Event-loop stalls measured by how late a short timer fires. Unlike a delay
 * histogram reset at each collection, nothing is lost to ordering: a
 * collection that runs right after a stall, before the timer, measures the
 * stall itself; the longest delay is kept until it is read, and stalled time
 * only adds up.
 */
export class StallSampler {
  /** seconds spent in stalls of STALL_MS or more, and how many there were */
  stalledSeconds = 0
  stalls = 0
  private last = performance.now()
  private longest = 0
  private readonly timer: NodeJS.Timeout

  constructor (private readonly interval: number) {
    this.timer = setInterval(() => {
      this.measure()
      this.last = performance.now()
    }, interval)
    this.timer.unref()
  }

  /** The longest delay (ms) since the last call, including a stall that just ended. */
  takeLongest (): number {
    if (this.measure()) this.last = performance.now()
    const longest = this.longest
    this.longest = 0
    return longest
  }

  stop (): void {
    clearInterval(this.timer)
  }

  /** Records how late the timer is now; true when it is late. */
  private measure (): boolean {
    const late = performance.now() - this.last - this.interval
    if (late <= 0) return false
    if (late > this.longest) this.longest = late
    if (late >= STALL_MS) {
      this.stalledSeconds += late / 1000
      this.stalls++
    }
    return true
  }
}
