/**
 * Concurrent calls for one key share one run: the first caller's promise
 * is handed to every caller that arrives before it settles.
 */
export class SingleFlight {
  private readonly flights = new Map<string, Promise<unknown>>()

  run<T> (key: string, fn: () => Promise<T>): Promise<T> {
    const current = this.flights.get(key)
    if (current !== undefined) return current as Promise<T>
    const flight = fn().finally(() => this.flights.delete(key))
    this.flights.set(key, flight)
    return flight
  }
}
