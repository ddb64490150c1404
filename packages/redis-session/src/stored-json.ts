import secureJson from 'secure-json-parse'

/**
 * A stored value (session or cache), parsed as the untrusted input it is:
 * anything written by another Redis client or by any worker through the
 * embedded store. `undefined` when it is not JSON, or carries `__proto__` /
 * `constructor.prototype` keys (prototype poisoning).
 */
export function parseStored (raw: string): unknown {
  try {
    return secureJson.parse(raw, null, { protoAction: 'error', constructorAction: 'error' })
  } catch {
    return undefined
  }
}
