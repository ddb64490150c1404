import t from 'tap'
import Fastify from 'fastify'
import { Signer } from '@fastify/cookie'
import { redisSession } from '@corral/redis-session'
import { REDIS_URL } from '@corral/test-helpers'
import { buildSessionApp, sessionCookie } from './fixtures/session-app.js'
import { redisFor, uniquePrefix } from './fixtures/redis.js'

const OLD = 'the-old-secret-0123456789-abcdefghijklmnop'
const NEW = 'the-new-secret-9876543210-ponmlkjihgfedcba'

t.test('after a rotation, a cookie signed with the old secret still works and comes back signed with the new one', async (t) => {
  const prefix = uniquePrefix('rotation')
  redisFor(t, prefix)
  const before = await buildSessionApp({ redis: REDIS_URL, keyPrefix: prefix, secret: OLD })
  t.teardown(() => before.close())
  const oldCookie = sessionCookie(await before.inject({ method: 'POST', url: '/login', payload: { user: 'alice' } }))

  const after = await buildSessionApp({ redis: REDIS_URL, keyPrefix: prefix, secret: [NEW, OLD] })
  t.teardown(() => after.close())
  const res = await after.inject({ url: '/peek', headers: { cookie: oldCookie } })
  t.same(res.json(), { user: 'alice', visits: 0 }, 'not a silent logout')
  const renewed = sessionCookie(res)
  t.ok(renewed, 'a cookie is set')
  t.notMatch(res.headers['set-cookie'].toString(), /Expires=Thu, 01 Jan 1970/, 'not cleared')
  const value = decodeURIComponent(renewed.slice(renewed.indexOf('=') + 1))
  t.ok(new Signer([NEW]).unsign(value).valid, 're-signed with the newest secret')
  t.notOk(new Signer([OLD]).unsign(value).valid)

  // once every client has the new cookie, the old secret can go
  const onlyNew = await buildSessionApp({ redis: REDIS_URL, keyPrefix: prefix, secret: NEW })
  t.teardown(() => onlyNew.close())
  t.equal((await onlyNew.inject({ url: '/me', headers: { cookie: renewed } })).json().user, 'alice')
  t.same((await onlyNew.inject({ url: '/me', headers: { cookie: oldCookie } })).json(), { user: null })
})

t.test('weak secrets are refused at start-up, without echoing them', async (t) => {
  // wrong on purpose: each case is a secret of the wrong type or value
  const cases: Array<[any, string, RegExp]> = [
    [undefined, 'secret', /must be a string of 32\+ characters, or an array of them \(got nothing\)$/],
    ['short-secret', 'secret', /must be at least 32 characters long \(got 12 characters, not shown\)$/],
    ['a'.repeat(40), 'secret', /must be made of at least 10 distinct characters \(got 1, not shown\)$/],
    ['0101010101010101010101010101010101', 'secret', /at least 10 distinct characters \(got 2, not shown\)$/],
    [[], 'secret', /or an array of them \(got \[\]\)$/],
    [[NEW, 'tiny'], 'secret[1]', /at least 32 characters long \(got 4 characters, not shown\)$/],
    [[NEW, 42], 'secret[1]', /must be a string \(got number\)$/],
    [{ sign () {} }, 'secret', /must be a string \(got object\)$/]
  ]
  for (const [secret, name, message] of cases) {
    const app = Fastify()
    app.register(redisSession, { secret })
    const err = await app.ready().then(() => null, (e) => e)
    t.equal(err?.code, 'CORRAL_SESSION_INVALID_OPTION', JSON.stringify(secret))
    t.match(err?.message, `"${name}"`)
    t.match(err?.message, message)
    if (typeof secret === 'string' && secret.length > 0) t.notOk(err.message.includes(secret), 'the secret is not in the message')
    await app.close()
  }
})
