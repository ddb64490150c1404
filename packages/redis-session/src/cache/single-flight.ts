/**
 * Concurrent calls for one key share one run: the first caller's promise
 * is handed to every caller that arrives before it settles. A follower waits
 * at most `waitTimeout`, then runs its own fallback: an origin that hangs
 * hangs its first caller, not every caller of the key.
 */
export class SingleFlight {
  private readonly flights = new Map<string, Promise<unknown>>()

  constructor (private readonly waitTimeout: number) {}

  /** Whether a run for `key` is under way. */
  has (key: string): boolean { return this.flights.has(key) }

  run<T> (key: string, fn: () => Promise<T>, fallback: () => T | Promise<T>): Promise<T> {
    const current = this.flights.get(key)
    if (current !== undefined) return this.follow(current as Promise<T>, fallback)
    const flight = fn().finally(() => this.flights.delete(key))
    this.flights.set(key, flight)
    return flight
  }

  private follow<T> (flight: Promise<T>, fallback: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false
      const timer = setTimeout(() => {
        settled = true
        Promise.resolve().then(fallback).then(resolve, reject)
      }, this.waitTimeout)
      flight.then((value) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(value)
      }, (err: unknown) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        reject(err)
      })
    })
  }
}
