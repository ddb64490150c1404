import net from 'node:net'
import type { Server, IncomingMessage, ServerResponse } from 'node:http'

const POLL_MS = 25
const LINGER_MS = 250

function closeAfterResponse (_req: IncomingMessage, res: ServerResponse): void {
  res.shouldKeepAlive = false
}

function connectionCount (server: Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((err, count) => resolve(err != null ? 0 : count)))
}

/**
 * Stops accepting new connections while the ones open finish their work:
 * every response from now on carries `Connection: close`, so busy keep-alive
 * clients move on after their next answer; connections still idle after
 * `idleCloseDelay` are closed. Resolves when none are left.
 *
 * http.Server#close() would close idle keep-alive sockets at once, racing a
 * client that is sending on one right then (a failed request); so the
 * listener is closed with net.Server's close, and idle sockets only later.
 */
export async function drainConnections (server: Server, idleCloseDelay: number): Promise<void> {
  server.prependListener('request', closeAfterResponse)
  if (server.listening) net.Server.prototype.close.call(server)
  const idleAt = Date.now() + idleCloseDelay
  // round-robin: a connection the primary handed over just before it saw the close still arrives; stay to take or return it
  const lingerUntil = Date.now() + LINGER_MS
  while (await connectionCount(server) > 0 || Date.now() < lingerUntil) {
    if (Date.now() >= idleAt) server.closeIdleConnections()
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}
