/** Error of a Redis command that outlived its bound: the same message ioredis' own commandTimeout uses. */
export class CommandTimeoutError extends Error {
  constructor () { super('Command timed out') }
}

/**
 * `work`, or a rejection after `ms`: whatever the client's own options (a
 * Cluster passed in with ioredis' defaults waits through a hung master for
 * tens of seconds), a request is answered within the bound.
 */
export async function bounded<T> (work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new CommandTimeoutError()), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
    // the abandoned command may still fail later: not an unhandled rejection
    work.catch(() => {})
  }
}
