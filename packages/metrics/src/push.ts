import { performance } from 'node:perf_hooks'
import type { WorkerContext } from '@corral/cluster-boot'
import { NAMESPACE, type WireSnapshot } from './snapshot.js'

/**
 * Sends the worker's snapshots to the primary: every `interval`, when a
 * drain starts, and a last time when the app closes (after the requests
 * still in flight at the drain have finished). The last one is awaited
 * until it is written to the channel, so the process cannot exit with it.
 */
export class Pusher {
  private timer: NodeJS.Timeout | undefined
  private busy = false
  private stopped = false

  constructor (
    private readonly worker: WorkerContext,
    private readonly take: () => Promise<WireSnapshot>,
    private readonly onError: (err: unknown) => void,
    /** gets the seconds a periodic push took: collecting, encoding and writing to the channel */
    private readonly measure: (seconds: number) => void
  ) {}

  start (interval: number): void {
    this.timer = setInterval(() => { this.tick() }, interval)
    this.timer.unref()
    this.tick()
  }

  /** Pushes now and resolves once the snapshot is written (false when the channel is gone). */
  async flush (): Promise<boolean> {
    try {
      return await this.worker.bus.deliver(NAMESPACE, await this.take())
    } catch (err) {
      this.onError(err)
      return false
    }
  }

  /** The last push: no more periodic ones after it. */
  async close (): Promise<boolean> {
    this.stopped = true
    clearInterval(this.timer)
    return this.flush()
  }

  private async tick (): Promise<void> {
    // a slow collection must not pile up pushes
    if (this.busy || this.stopped) return
    this.busy = true
    try {
      const started = performance.now()
      const snapshot = await this.take()
      if (!this.stopped) this.worker.bus.send(NAMESPACE, snapshot)
      this.measure((performance.now() - started) / 1000)
    } catch (err) {
      this.onError(err)
    } finally {
      this.busy = false
    }
  }
}
