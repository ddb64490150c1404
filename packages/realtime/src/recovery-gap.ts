/**
 * Closes a gap in connection-state recovery with the Redis streams adapter.
 * A worker restores a session by reading the stream after the client's
 * offset, then the socket joins its rooms; a broadcast this worker delivered
 * to those rooms between the read and the join (from its stream reader, or
 * published here) reached no one for this client, and one the read returned
 * that the stream reader has not delivered yet would come twice. So before
 * the session is handed back: wait (briefly) until this worker delivered what
 * the read returned, then add what it delivered past it.
 */

/** The adapter members this wraps (socket.io-adapter's ClusterAdapter). */
interface RecoveringAdapter {
  nsp: { name: string }
  addOffsetIfNecessary (packet: unknown, opts: unknown, offset: string): void
  restoreSession (pid: string, offset: string): Promise<Session | null | undefined>
}

interface Session {
  rooms: string[]
  missedPackets: unknown[][]
}

/** ioredis' XRANGE: entries as [id, [field, value, ...]]. */
interface StreamReader {
  xrange (key: string, start: string, end: string): Promise<Array<[string, string[]]>>
}

/** at most this long: an entry older than this worker's stream reader never comes, and a quiet stream brings nothing newer */
const CATCH_UP_MS = 200
const POLL_MS = 5

/** Stream ids ("ms-seq") in order. */
function compareIds (a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt)
  const [bm, bs] = b.split('-').map(BigInt)
  return am === bm ? (as === bs ? 0 : as < bs ? -1 : 1) : am < bm ? -1 : 1
}

function fields (flat: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1]
  return out
}

/** The event a stream entry broadcast to `rooms`, with its id appended as its offset; undefined when not for them. */
function missedEvent (nsp: string, rooms: string[], id: string, flat: string[]): unknown[] | undefined {
  const entry = fields(flat)
  // type 3: a broadcast; binary payloads are msgpack, not JSON: left to the adapter
  if (entry.nsp !== nsp || entry.type !== '3' || entry.data?.startsWith('{') !== true) return undefined
  const { packet, opts } = JSON.parse(entry.data) as { packet: { type: number, id?: number, data: unknown[] }, opts: { rooms?: string[], except?: string[], flags?: { volatile?: boolean } } }
  if (packet.type !== 2 || packet.id !== undefined || opts.flags?.volatile !== undefined) return undefined
  const to = opts.rooms ?? []
  const except = opts.except ?? []
  if (to.length > 0 && !rooms.some((room) => to.includes(room))) return undefined
  if (rooms.some((room) => except.includes(room))) return undefined
  return [...packet.data, id]
}

export function closeRecoveryGap<A> (created: A, redis: unknown, stream: string): A {
  const adapter = created as unknown as RecoveringAdapter
  const reader = redis as Partial<StreamReader>
  if (typeof reader.xrange !== 'function') return created
  let delivered: string | undefined
  const addOffset = adapter.addOffsetIfNecessary
  adapter.addOffsetIfNecessary = function (packet, opts, offset) {
    if (typeof offset === 'string' && offset !== '' && (delivered === undefined || compareIds(offset, delivered) > 0)) delivered = offset
    return addOffset.call(this, packet, opts, offset)
  }
  const restore = adapter.restoreSession
  adapter.restoreSession = async function (pid, offset) {
    const session = await restore.call(this, pid, offset)
    if (session == null) return session
    const last = session.missedPackets.at(-1)?.at(-1)
    let end = typeof last === 'string' ? last : offset
    const deadline = Date.now() + CATCH_UP_MS
    // nothing delivered here yet: the reader started after the range, so none of it comes again
    while (delivered !== undefined && compareIds(delivered, end) < 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
    while (delivered !== undefined && compareIds(delivered, end) > 0) {
      const upTo: string = delivered
      for (const [id, flat] of await (reader as StreamReader).xrange(stream, `(${end}`, upTo)) {
        const event = missedEvent(adapter.nsp.name, session.rooms, id, flat)
        if (event !== undefined) session.missedPackets.push(event)
      }
      end = upTo
    }
    return session
  }
  return created
}
