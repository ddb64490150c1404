import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'

/** What @corral/redis-session's `fastify.bus` offers and this package uses of it. */
export interface Bus {
  publish (channel: string, message: unknown): Promise<void>
  subscribe (channel: string, handler: (message: unknown, channel: string) => void): Promise<() => Promise<void>>
}

interface Channel {
  sockets: Set<WebSocket>
  /** resolves with the bus unsubscribe function once the bus delivers this channel here */
  subscribed: Promise<() => Promise<void>>
}

/**
 * The WebSockets of this worker subscribed to each channel. A broadcast is
 * published once on the bus (Redis across hosts, or the primary on one
 * machine); each worker writes what the bus brings to its own sockets, one
 * JSON text frame `{ channel, data }`, serialized once.
 */
export class WsChannels {
  private readonly channels = new Map<string, Channel>()
  private readonly bySocket = new WeakMap<WebSocket, Set<string>>()

  constructor (private readonly bus: Bus, private readonly prefix: string, private readonly log: FastifyBaseLogger) {}

  publish (channel: string, data: unknown): Promise<void> {
    return this.bus.publish(this.prefix + channel, data)
  }

  /** Resolves once broadcasts on `channel` from any worker reach `socket`. */
  async subscribe (socket: WebSocket, channel: string): Promise<void> {
    let joined = this.bySocket.get(socket)
    if (joined === undefined) {
      this.bySocket.set(socket, joined = new Set())
      socket.once('close', () => { for (const name of joined as Set<string>) this.leave(socket, name) })
    }
    if (socket.readyState !== socket.OPEN && socket.readyState !== socket.CONNECTING) return
    joined.add(channel)
    let entry = this.channels.get(channel)
    if (entry === undefined) {
      const sockets = new Set<WebSocket>()
      const frame = (data: unknown): void => this.fanOut(channel, sockets, data)
      entry = { sockets, subscribed: this.bus.subscribe(this.prefix + channel, frame) }
      this.channels.set(channel, entry)
      // a failed subscription leaves no entry behind: the next subscribe tries again
      entry.subscribed.catch(() => { if (this.channels.get(channel) === entry) this.channels.delete(channel) })
    }
    entry.sockets.add(socket)
    await entry.subscribed
  }

  unsubscribe (socket: WebSocket, channel: string): void {
    if (this.bySocket.get(socket)?.delete(channel) === true) this.leave(socket, channel)
  }

  /** The last socket of a channel to leave takes the worker off its bus channel. */
  private leave (socket: WebSocket, channel: string): void {
    const entry = this.channels.get(channel)
    if (entry === undefined || !entry.sockets.delete(socket) || entry.sockets.size > 0) return
    this.channels.delete(channel)
    entry.subscribed.then((unsubscribe) => unsubscribe()).catch((err: unknown) => {
      this.log.warn({ err, channel }, 'realtime: leaving a bus channel failed')
    })
  }

  private fanOut (channel: string, sockets: Set<WebSocket>, data: unknown): void {
    const text = JSON.stringify({ channel, data })
    for (const socket of sockets) if (socket.readyState === socket.OPEN) socket.send(text)
  }
}

/**
 * Outside a cluster, with no `fastify.bus`: the process's own sockets are
 * every socket there is, so a broadcast is delivered here, never inline.
 */
export function processBus (): Bus {
  const handlers = new Map<string, Set<(message: unknown, channel: string) => void>>()
  return {
    async publish (channel, message) {
      const set = handlers.get(channel)
      if (set !== undefined) setImmediate(() => { for (const handler of set) handler(message, channel) })
    },
    async subscribe (channel, handler) {
      let set = handlers.get(channel)
      if (set === undefined) handlers.set(channel, set = new Set())
      set.add(handler)
      return async () => {
        set.delete(handler)
        if (set.size === 0 && handlers.get(channel) === set) handlers.delete(channel)
      }
    }
  }
}
