import { test } from 'tap'
import { redact, redactValue } from '@corral/cluster-boot'

test('redactValue hides values under secret-named keys and redacts every string in an observation', async (t) => {
  t.same(redactValue({ host: 'db', password: 'hunter2', nested: { apiKey: 'k', url: 'postgres://app:hunter2@db/x' }, list: ['token=abc', 3] }), {
    host: 'db',
    password: '***',
    nested: { apiKey: '***', url: 'postgres://***@db/x' },
    list: ['token=***', 3]
  })
  t.equal(redactValue(null), null)
  t.equal(redactValue(42), 42)
  t.equal(redactValue('Authorization: Bearer abc.def'), redact('Authorization: Bearer abc.def'))
})

test('redactValue passes objects that are not plain as they are, and marks nesting deeper than an observation needs', async (t) => {
  const at = new Date(0)
  t.equal(redactValue(at), at, 'a Date is not walked into {}')
  t.same(redactValue(Object.assign(Object.create(null), { secret: 's' })), { secret: '***' }, 'a null-prototype object is plain')
  t.same(redactValue({ a: { b: { c: { d: { e: { f: 1 } } } } } }), { a: { b: { c: { d: { e: '[nested]' } } } } })
})
