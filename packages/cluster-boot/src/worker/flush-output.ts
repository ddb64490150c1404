/**
 * Resolves once what this process wrote to stdout and stderr left its
 * memory: on a pipe the primary reads more slowly than the app writes,
 * Node queues the writes, and process.exit() would drop them. Bounded:
 * the primary kills a worker that outlives killTimeout anyway.
 */
export function flushOutput (timeout = 5000): Promise<void> {
  const flushed = (stream: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => {
    if (stream.writableLength === 0 || stream.destroyed || !stream.writable) return resolve()
    // written after everything queued, so its callback comes once they are out
    stream.write('', () => resolve())
  })
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeout) })
  return Promise.race([Promise.all([flushed(process.stdout), flushed(process.stderr)]).then(() => {}), bound]).finally(() => clearTimeout(timer))
}

/**
 * Blocking writes on the pipes to the primary: console.log's writes then
 * never interleave with pino's synchronous ones in the middle of a line,
 * nothing queues in memory to be lost at exit, and a worker that writes
 * faster than the primary files its lines waits for it.
 */
export function blockingOutput (): void {
  for (const stream of [process.stdout, process.stderr]) {
    const handle = (stream as unknown as { _handle?: { setBlocking?: (on: boolean) => number } })._handle
    if (stream.isTTY) continue
    handle?.setBlocking?.(true)
    // EPIPE once the primary is gone: nobody reads these lines any more, and the drain must go on
    stream.on('error', () => {})
  }
}
