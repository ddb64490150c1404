/** Error of a Redis command that outlived its bound: the same message ioredis' own commandTimeout uses. */
export class CommandTimeoutError extends Error {
  constructor () { super('Command timed out') }
}

/**
 * `work`, or a rejection after `ms`: whatever the client's own options (a
 * Cluster passed in with ioredis' defaults waits through a hung master for
 * tens of seconds), a request is answered within the bound.
 */
export function bounded<T> (work: Promise<T>, ms: number): Promise<T> {
  // one promise and one timer per command: on the session path this runs twice a request
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CommandTimeoutError()), ms)
    // after the timeout, the abandoned command's outcome lands on a settled promise: never unhandled
    work.then((value) => { clearTimeout(timer); resolve(value) }, (err) => { clearTimeout(timer); reject(err) })
  })
}
