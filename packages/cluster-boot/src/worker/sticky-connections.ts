import type { Socket } from 'node:net'
import type { Server } from 'node:http'
import { isEnvelope } from '../ipc/ipc-bus.js'
import { STICKY_CONNECTION } from '../primary/sticky-balancer.js'

interface CountedServer extends Server {
  _connections: number
}

interface ServedSocket extends Socket {
  server?: Server
  _server?: Server
}

/**
 * The worker's end of `scheduling: 'sticky'`: takes the connections the
 * primary accepted and hands over, and serves them on `server` as if it had
 * accepted them itself.
 *
 * `emit('connection')` alone leaves the server's connection count at 0, and
 * that count is what the drain waits on (getConnections) and what close()
 * waits for: so the socket is accounted for as net.Server's own accept does,
 * and net.Socket's destroy takes it off again.
 */
export function acceptStickyConnections (channel: NodeJS.Process, server: Server): () => void {
  const onMessage = (message: unknown, handle: unknown): void => {
    if (!isEnvelope(message) || message.corral !== STICKY_CONNECTION || handle === undefined) return
    const socket = handle as ServedSocket
    const counted = server as CountedServer
    counted._connections++
    socket.server = server
    socket._server = server
    server.emit('connection', socket)
    // paused in the primary (pauseOnConnect): nothing was read there, the request's first bytes are all still to come
    socket.resume()
  }
  channel.on('message', onMessage)
  return () => { channel.off('message', onMessage) }
}
