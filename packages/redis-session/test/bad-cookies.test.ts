import t from 'tap'
import { REDIS_URL, freePort, request } from '@corral/test-helpers'
import { buildSessionApp, sessionCookie } from './fixtures/session-app.js'
import { redisFor, uniquePrefix } from './fixtures/redis.js'

t.test('tampered, truncated, oversized or garbage cookies are a new anonymous session, never a 500', async (t) => {
  const prefix = uniquePrefix('bad-cookies')
  redisFor(t, prefix)
  const app = await buildSessionApp({ redis: REDIS_URL, keyPrefix: prefix })
  t.teardown(() => app.close())
  const good = sessionCookie(await app.inject({ method: 'POST', url: '/login', payload: { user: 'alice' } }))
  const value = decodeURIComponent(good.slice('sessionId='.length))
  const [id, signature] = [value.slice(0, value.lastIndexOf('.')), value.slice(value.lastIndexOf('.') + 1)]
  const flipped = signature[0] === 'A' ? 'B' + signature.slice(1) : 'A' + signature.slice(1)

  const cookies = {
    'tampered signature': `sessionId=${encodeURIComponent(`${id}.${flipped}`)}`,
    'another id, same signature': `sessionId=${encodeURIComponent(`${id.slice(1)}x.${signature}`)}`,
    truncated: good.slice(0, good.length - 5),
    'no signature': `sessionId=${id}`,
    'trailing dot': `sessionId=${id}.`,
    empty: 'sessionId=',
    garbage: 'sessionId=%%%<script>',
    'bad percent-encoding': 'sessionId=%E0%A4%A',
    oversized: `sessionId=${'x'.repeat(8000)}.${signature}`,
    'many cookies': Array.from({ length: 200 }, (_, i) => `c${i}=${i}`).join('; '),
    'not a cookie header': ';;;==;'
  }
  for (const [name, cookie] of Object.entries(cookies)) {
    const res = await app.inject({ url: '/me', headers: { cookie } })
    t.equal(res.statusCode, 200, name)
    t.same(res.json(), { user: null }, name)
  }
  t.equal((await app.inject({ url: '/me', headers: { cookie: good } })).json().user, 'alice', 'the real cookie still works')
})

t.test('over real HTTP, a cookie too large for Node is refused and the server goes on', async (t) => {
  const prefix = uniquePrefix('huge-cookie')
  redisFor(t, prefix)
  const app = await buildSessionApp({ redis: REDIS_URL, keyPrefix: prefix })
  t.teardown(() => app.close())
  const port = await freePort()
  await app.listen({ port, host: '127.0.0.1' })
  const huge = await request(`http://127.0.0.1:${port}/me`, { headers: { cookie: `sessionId=${'y'.repeat(20_000)}` } })
  t.equal(huge.status, 431)
  const after = await request(`http://127.0.0.1:${port}/me`)
  t.equal(after.status, 200)
})
