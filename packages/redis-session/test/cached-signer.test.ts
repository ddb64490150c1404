import t from 'tap'
import { Signer } from '@fastify/cookie'
import { CachedSigner } from '../dist/session/cached-signer.js'

const A = 'first-secret-0123456789-abcdefghijklmnopq'
const B = 'second-secret-9876543210-qponmlkjihgfedcba'

t.test('the memo answers as the signer does, for valid, rotated and forged values', async (t) => {
  const signer = new CachedSigner([A, B], 2)
  const plain = new Signer([A, B])
  t.equal(signer.sign('id1'), plain.sign('id1'))
  t.equal(signer.sign('id1'), plain.sign('id1'), 'twice: from the memo')
  const old = new Signer([B]).sign('id2')
  t.same(signer.unsign(old), { valid: true, renew: true, value: 'id2' })
  t.same(signer.unsign(old), { valid: true, renew: true, value: 'id2' })
  t.same(signer.unsign('id3.forged'), { valid: false, renew: false, value: null })
  for (const v of ['id4', 'id5', 'id6']) t.ok(signer.unsign(plain.sign(v)).valid)
  t.same(signer.unsign(plain.sign('id4')), { valid: true, renew: false, value: 'id4' }, 'still right after evictions')
  t.equal(signer.sign('id7'), plain.sign('id7'))
  t.equal(signer.sign('id8'), plain.sign('id8'))
})
