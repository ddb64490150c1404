import { randomBytes } from 'node:crypto'

/** A slot in base 36, a dot, then the random part: the slot reads back without a table. */
const SLOT_PREFIX = /^([0-9a-z]{1,4})\./

/**
 * A random id that names the slot of the worker that made it. Socket.IO's
 * sids are random, so no hash of one finds the worker that issued it: give
 * this to Socket.IO (`io.engine.generateId = () => stickySid()`), or to a
 * session plugin as its id generator, and `sticky: { key: 'sid' }` (or
 * `{ cookie }`) routes every later connection that carries the id to that
 * slot. In a cluster-boot worker the slot is its own (env CORRAL_SLOT);
 * elsewhere the id is random only.
 */
export function stickySid (slot: number = Number(process.env.CORRAL_SLOT)): string {
  const random = randomBytes(15).toString('base64url')
  return Number.isInteger(slot) && slot >= 0 && slot < 36 ** 4 ? `${slot.toString(36)}.${random}` : random
}

/** The slot a `stickySid()` id names, or undefined for any other id. */
export function slotFromSid (id: string): number | undefined {
  const match = SLOT_PREFIX.exec(id)
  return match === null ? undefined : parseInt(match[1], 36)
}
