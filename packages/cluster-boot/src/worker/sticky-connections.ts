import net, { type Socket } from 'node:net'
import type { Server } from 'node:http'
import { isEnvelope } from '../ipc/ipc-bus.js'
import { STICKY_CONNECTION, type StickyMessage } from '../primary/sticky-balancer.js'

interface CountedServer extends Server {
  _connections: number
  /** net.Server's accept options, as http.Server sets them (noDelay true by default) */
  noDelay?: boolean
  keepAlive?: boolean
  keepAliveInitialDelay?: number
}

interface ServedSocket extends Socket {
  server?: Server
}

/**
 * The worker's end of `scheduling: 'sticky'`: takes the connections the
 * primary accepted and hands over, and serves them on `server` as if it had
 * accepted them itself.
 *
 * `emit('connection')` alone leaves the server's connection count at 0, and
 * that count is what the drain waits on (getConnections): so the socket is
 * counted in, and out once closed. Not through `socket._server`, as
 * net.Server's own accept does: a server that never listened would then emit
 * 'close' each time its last connection ends, and whoever listens for it
 * (Socket.IO's engine closes every session) would take the server for gone.
 */
export function acceptStickyConnections (channel: NodeJS.Process, server: Server): () => void {
  const onMessage = (message: unknown, handle: unknown): void => {
    if (handle === undefined || !isEnvelope(message) || message.corral !== STICKY_CONNECTION) return
    // a connection the primary read comes as a socket; one it did not, as the bare handle
    const socket = (handle instanceof net.Socket ? handle : new net.Socket({ handle, readable: true, writable: true } as net.SocketConstructorOpts)) as ServedSocket
    const counted = server as CountedServer
    // what net.Server's accept does with its options and emit('connection') does not: without it, Nagle
    // holds each small write (a response's second part, a WebSocket frame) until the client acks the last one
    if (counted.noDelay !== false) socket.setNoDelay(true)
    if (counted.keepAlive === true) socket.setKeepAlive(true, counted.keepAliveInitialDelay)
    counted._connections++
    socket.once('close', () => { counted._connections-- })
    socket.server = server
    // what the primary read to find the key comes first, before anything the socket reads from now on
    const { head } = message as unknown as StickyMessage
    if (typeof head === 'string') socket.unshift(Buffer.from(head, 'base64'))
    server.emit('connection', socket)
    socket.resume()
  }
  channel.on('message', onMessage)
  return () => { channel.off('message', onMessage) }
}
