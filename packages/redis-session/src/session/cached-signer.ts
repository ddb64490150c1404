import { Signer } from '@fastify/cookie'

interface UnsignResult { valid: boolean, renew: boolean, value: string | null }

/**
 * @fastify/cookie's Signer with a bounded memo of recent results. A session
 * cookie is unsigned on every request and its id signed again when the
 * session is restored: two HMACs per request for the same few thousand
 * values. Only valid signatures are remembered, so forged cookies cannot
 * fill the memo; a miss runs the real (timing-safe) check. A valid cookie
 * also answers the signing of its id; ids signed for the first time (the
 * fresh session of every request without a cookie) are not remembered, so
 * anonymous traffic cannot push logged-in users' entries out.
 */
export class CachedSigner {
  private readonly signer: Signer
  private readonly signed = new Map<string, string>()
  private readonly unsigned = new Map<string, UnsignResult>()

  constructor (secrets: string[], private readonly max = 10_000) {
    this.signer = new Signer(secrets)
  }

  sign (value: string): string {
    return this.signed.get(value) ?? this.signer.sign(value)
  }

  unsign (signedValue: string): UnsignResult {
    let result = this.unsigned.get(signedValue)
    if (result === undefined) {
      result = this.signer.unsign(signedValue) as UnsignResult
      if (result.valid) {
        remember(this.unsigned, signedValue, result, this.max)
        // signed with the newest secret: what signing its id gives
        if (!result.renew) remember(this.signed, result.value as string, signedValue, this.max)
      }
    }
    return result
  }
}

function remember<V> (map: Map<string, V>, key: string, value: V, max: number): void {
  // cheap bound: forget the oldest entry (Maps iterate in insertion order)
  if (map.size >= max) map.delete(map.keys().next().value as string)
  map.set(key, value)
}
