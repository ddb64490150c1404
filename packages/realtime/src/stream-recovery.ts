/**
 * Exactly-once connection-state recovery with @socket.io/redis-streams-adapter.
 *
 * A client resumes after the last offset it received, so recovery is only
 * exact if (1) each worker hands a socket its broadcasts in stream order, and
 * (2) a restored socket gets, once each, the entries after its offset that the
 * worker's stream reader handled before the socket joined its rooms. The
 * adapter as published does neither:
 * 1. a broadcast made on a worker (`io.to(room).emit`, and every `socket.emit`,
 *    which recovery routes through the adapter) reaches that worker's sockets
 *    when Redis acknowledges the XADD, while entries other workers added
 *    before it may still be on their way through the reader. A client that
 *    closes between the two resumes past an entry it never got (a miss); one
 *    that closes after them resumes before one it got (a duplicate);
 * 2. the restore reads the stream, then the socket joins its rooms: an entry
 *    added after the read and handled by the reader before the join reaches no
 *    one (a miss); one the read returned that the reader handles after the
 *    join arrives twice.
 * Here the worker's own broadcasts reach its sockets through its reader, like
 * everyone else's; the restore adds what the reader handled while it ran, and
 * returns once the reader has passed the last entry it hands back.
 */

/** Stream entry as the adapter's reader hands it over: string fields. */
interface RawMessage {
  uid: string
  nsp: string
  type: string
  data?: string
}

interface BroadcastOptions {
  rooms: Set<string>
  except?: Set<string>
  flags?: { local?: boolean, [flag: string]: unknown }
}

interface Packet {
  type: number
  data: unknown[]
  id?: number
}

interface Session {
  rooms: string[]
  missedPackets: unknown[][]
}

/** The members of the adapter's RedisStreamsAdapter (a socket.io-adapter ClusterAdapter) used here. */
interface StreamsAdapter {
  uid: string
  broadcast (packet: Packet, opts: BroadcastOptions): Promise<void>
  publishAndReturnOffset (message: { type: number, data: unknown }): Promise<string>
  onRawMessage (message: RawMessage, offset: string): void
  restoreSession (pid: string, offset: string): Promise<Session | null | undefined>
  constructor: { decode (message: RawMessage): { type: number, data: { packet: Packet, opts: { rooms: string[], except: string[] } } } }
}

/** socket.io-adapter's message type of a broadcast */
const BROADCAST = 3
/** Stands for this worker's id on its own entries, which the adapter skips (it delivered them itself, out of order). */
const SELF = 'corral.realtime:self'
/** a reader this late is stuck (Redis gone): the restore goes on, and its client may get an entry twice */
const READER_WAIT_MS = 2000
const PROBE_INTERVAL_MS = 100

/** Stream ids ("ms-seq") in order. */
export function compareIds (a: string, b: string): number {
  const [am, as] = a.split('-')
  const [bm, bs] = b.split('-')
  const ms = BigInt(am) - BigInt(bm)
  const seq = BigInt(as ?? 0) - BigInt(bs ?? 0)
  return ms !== 0n ? (ms < 0n ? -1 : 1) : seq === 0n ? 0 : seq < 0n ? -1 : 1
}

/** What the adapter's own restore keeps for a session: broadcasts to one of its rooms, except to a room it is in. */
function reaches (rooms: string[], opts: { rooms: string[], except: string[] }): boolean {
  const to = opts.rooms ?? []
  const except = opts.except ?? []
  return (to.length === 0 || rooms.some((room) => to.includes(room))) && rooms.every((room) => !except.includes(room))
}

const offsetOf = (packet: unknown[]): string => packet[packet.length - 1] as string

export interface StreamRecovery {
  /** Changes an adapter made by @socket.io/redis-streams-adapter's `createAdapter(...)(nsp)` in place (see above). */
  wrap<A> (adapter: A): A
  /** Resolves true once this worker's reader reads the stream: a probe published on `adapter` came back (so its own broadcasts will). */
  reading (adapter: unknown, timeout: number): Promise<boolean>
}

/** One per `createAdapter(...)`: its namespaces share one stream reader. */
export function streamRecovery (): StreamRecovery {
  /** the last entry the reader handed to one of the namespaces (it reads in stream order) */
  let position: string | undefined
  const waiters = new Set<() => void>()

  /** Resolves when the reader hands over its next entry, or after `ms`. */
  const nextEntry = async (ms: number): Promise<void> => {
    await new Promise<void>((resolve) => {
      const done = (): void => { clearTimeout(timer); waiters.delete(done); resolve() }
      const timer = setTimeout(done, ms)
      waiters.add(done)
    })
  }
  const past = (target: string): boolean => position !== undefined && compareIds(position, target) >= 0

  const caughtUp = async (target: string): Promise<void> => {
    const deadline = Date.now() + READER_WAIT_MS
    while (!past(target) && Date.now() < deadline) await nextEntry(deadline - Date.now())
  }

  return {
    wrap<A> (created: A): A {
      const adapter = created as unknown as StreamsAdapter
      const broadcast = adapter.broadcast
      const onRawMessage = adapter.onRawMessage
      const restoreSession = adapter.restoreSession
      /** entries handled while sessions are being restored */
      const captures = new Set<Array<{ raw: RawMessage, offset: string }>>()

      adapter.broadcast = async function (packet, opts) {
        if (opts.flags?.local === true) return broadcast.call(this, packet, opts)
        try {
          // delivered here when the reader reads it back, in stream order with the other workers' entries
          await this.publishAndReturnOffset({
            type: BROADCAST,
            data: { packet, opts: { rooms: [...opts.rooms], except: [...(opts.except ?? [])], flags: opts.flags } }
          })
        } catch {
          // what the adapter does when Redis refuses: this worker's sockets still get it (without an offset)
          await broadcast.call(this, packet, { ...opts, flags: { ...opts.flags, local: true } })
        }
      }

      adapter.onRawMessage = function (raw, offset) {
        const message = raw.uid === this.uid && raw.type === String(BROADCAST) ? { ...raw, uid: SELF } : raw
        for (const capture of captures) capture.push({ raw, offset })
        onRawMessage.call(this, message, offset)
        position = offset
        for (const wake of waiters) wake()
      }

      adapter.restoreSession = async function (pid, offset) {
        const capture: Array<{ raw: RawMessage, offset: string }> = []
        captures.add(capture)
        try {
          // every entry after `offset` is in what the adapter reads, or handled by the reader after the capture began
          const session = await restoreSession.call(this, pid, offset)
          if (session == null) return session
          const missed = new Map<string, unknown[]>(session.missedPackets.map((packet) => [offsetOf(packet), packet]))
          const last = [...missed.keys()].sort(compareIds).at(-1)
          // once the reader is past them, none of these comes again through it after the socket joins its rooms
          if (last !== undefined) await caughtUp(last)
          for (const { raw, offset: id } of capture) {
            if (missed.has(id) || raw.type !== String(BROADCAST) || compareIds(id, offset) <= 0) continue
            const { packet, opts } = this.constructor.decode(raw).data
            if (reaches(session.rooms, opts)) missed.set(id, [...packet.data, id])
          }
          // the socket joins its rooms as this resolves (microtasks only), before the reader hands over anything else
          session.missedPackets = [...missed.keys()].sort(compareIds).map((id) => missed.get(id) as unknown[])
          return session
        } finally {
          captures.delete(capture)
        }
      }
      return created
    },

    async reading (created, timeout) {
      const adapter = created as StreamsAdapter
      const deadline = Date.now() + timeout
      const room = `corral.realtime:probe:${adapter.uid}`
      while (Date.now() < deadline) {
        if (position !== undefined) return true
        // an entry added before the reader's first read is never read: publish again until one is; not awaited, so
        // that a publish Redis holds back (a client queueing while it reconnects) does not hold the start past `timeout`
        adapter.broadcast({ type: 2, data: ['probe'] }, { rooms: new Set([room]), except: new Set(), flags: {} }).catch(() => {})
        await nextEntry(PROBE_INTERVAL_MS)
      }
      return position !== undefined
    }
  }
}
