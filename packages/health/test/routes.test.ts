import t from 'tap'
import Fastify from 'fastify'
import { corralHealth } from '@corral/health'

async function build (t, options = {}, fastifyOptions = {}) {
  const app = Fastify(fastifyOptions)
  await app.register(corralHealth, options)
  t.teardown(() => app.close())
  return app
}

t.test('all passing: 200, application/health+json, checks keyed name:measurement', async (t) => {
  const app = await build(t, {
    checks: {
      db: { check: async () => ({ observedValue: 3, observedUnit: 'ms' }), measurement: 'responseTime' },
      queue: async () => {}
    }
  })
  const res = await app.inject('/health')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/health\+json/)
  const body = res.json()
  t.equal(body.status, 'pass')
  t.match(body.checks['db:responseTime'][0], { status: 'pass', observedValue: 3, observedUnit: 'ms', time: String })
  t.equal(body.checks['queue:status'][0].status, 'pass')
  t.same((await app.inject('/health/ready')).json(), { status: 'pass' })
  t.same((await app.inject('/health/live')).json(), { status: 'pass' })
})

t.test('GET, HEAD and OPTIONS answer; a query string changes nothing', async (t) => {
  const app = await build(t, { checks: { down: async () => { throw new Error('no') } } })
  for (const method of ['GET', 'HEAD', 'OPTIONS']) {
    for (const url of ['/health/ready', '/health/ready?probe=1&x', '/health', '/health?verbose']) {
      const res = await app.inject({ method, url })
      t.equal(res.statusCode, 503, `${method} ${url}`)
      t.equal(res.headers['retry-after'], '5')
    }
    t.equal((await app.inject({ method, url: '/health/live?x=1' })).statusCode, 200, `${method} live`)
  }
})

t.test('a critical failure is 503 with its output; live stays 200', async (t) => {
  const app = await build(t, { checks: { db: async () => { throw new Error('connection refused') } }, retryAfter: 2 })
  const res = await app.inject('/health')
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '2')
  t.match(res.json(), { status: 'fail', checks: { 'db:status': [{ status: 'fail', output: 'connection refused' }] } })
  t.equal((await app.inject('/health/live')).statusCode, 200, 'an outage never restarts the instance')
})

t.test('warn: returned by a check, or any failure of a non-critical one; still 200', async (t) => {
  const app = await build(t, {
    checks: {
      disk: async () => ({ status: 'warn', output: 'getting full' }),
      mailer: { check: async () => { throw new Error('smtp down') }, critical: false }
    }
  })
  const res = await app.inject('/health')
  t.equal(res.statusCode, 200)
  t.match(res.json(), { status: 'warn', checks: { 'disk:status': [{ status: 'warn', output: 'getting full' }], 'mailer:status': [{ status: 'warn', output: 'smtp down' }] } })
})

t.test('checks are added and removed at run time', async (t) => {
  const app = await build(t, { checkInterval: 0 })
  t.equal((await app.inject('/health/ready')).statusCode, 200, 'no checks: ready')
  app.health.addCheck('late', async () => { throw new Error('x') })
  t.equal((await app.inject('/health/ready')).statusCode, 503)
  app.health.addCheck('late', async () => { throw new Error('x') }, { critical: false })
  t.equal((await app.inject('/health/ready')).statusCode, 200)
  t.ok(app.health.removeCheck('late'))
  t.notOk(app.health.removeCheck('late'))
  t.throws(() => app.health.addCheck('bad name!', async () => {}), { code: 'CORRAL_HEALTH_INVALID_OPTION' })
  t.throws(() => app.health.addCheck('ok', async () => {}, { timeout: -1 }), { code: 'CORRAL_HEALTH_INVALID_OPTION' })
  t.match(await app.health.check(), { status: 'pass', ready: true })
})

t.test('details only for loopback callers by default, or as exposeDetails says', async (t) => {
  const checks = { db: async () => { throw new Error('refused') } }
  const app = await build(t, { checks })
  const outside = await app.inject({ url: '/health', remoteAddress: '10.0.0.1' })
  t.equal(outside.statusCode, 503)
  t.same(outside.json(), { status: 'fail' }, 'status only')
  t.ok((await app.inject({ url: '/health', remoteAddress: '::1' })).json().checks)

  const custom = await build(t, { checks, exposeDetails: (request) => request.headers['x-health-token'] === 'ok' })
  t.same((await custom.inject({ url: '/health' })).json(), { status: 'fail' })
  t.ok((await custom.inject({ url: '/health', remoteAddress: '10.0.0.1', headers: { 'x-health-token': 'ok' } })).json().checks)
})

t.test('outputs never carry credentials', async (t) => {
  const app = await build(t, {
    checks: {
      pg: async () => { throw new Error('connect to postgres://app:hunter2@db.internal:5432/main failed') },
      redis: async () => { throw new Error('AUTH failed, password=hunter2 token: abc123') }
    }
  })
  const text = (await app.inject('/health')).body
  t.notMatch(text, /hunter2/)
  t.notMatch(text, /abc123/)
  t.match(text, /postgres:\/\/\*\*\*@db\.internal/)
})

t.test('details are hidden behind a same-host proxy, and a spoofed X-Forwarded-For under trustProxy earns none', async (t) => {
  const checks = { db: async () => { throw new Error('refused') } }
  const app = await build(t, { checks }, { trustProxy: true })
  t.ok((await app.inject({ url: '/health', remoteAddress: '127.0.0.1' })).json().checks, 'a direct loopback caller sees details')
  const proxied = [
    { 'x-forwarded-for': '127.0.0.1' },
    { 'x-forwarded-for': '203.0.113.9' },
    { forwarded: 'for=127.0.0.1' },
    { 'x-real-ip': '127.0.0.1' }
  ]
  for (const headers of proxied) {
    for (const remoteAddress of ['127.0.0.1', '::1', '10.0.0.1']) {
      const res = await app.inject({ url: '/health', remoteAddress, headers })
      t.same(res.json(), { status: 'fail' }, `${remoteAddress} with ${JSON.stringify(headers)}: status only`)
    }
  }
})

t.test('redaction covers bearer tokens, api_key= and token= values, in outputs and observed values', async (t) => {
  const app = await build(t, {
    checks: {
      http: async () => { throw new Error('GET https://api.example/x failed: Authorization: Bearer eyJhbGciOi.secret1 rejected') },
      query: async () => { throw new Error('https://api.example/v1?api_key=secret2&x=1 and apikey: secret3, access_token=secret4') },
      observed: async () => ({
        observedValue: { url: 'redis://default:secret5@cache:6379', nested: ['token=secret6'], password: 'secret7', count: 3 },
        output: 'X-Api-Key: secret8'
      }),
      text: async () => ({ observedValue: 'Bearer secret9' }),
      deep: async () => ({ observedValue: { a: { b: { c: { d: { e: { f: 'password=secret10' } } } } } } })
    }
  })
  const res = await app.inject('/health')
  for (let i = 1; i <= 10; i++) t.notMatch(res.body, new RegExp(`secret${i}`), `secret${i} redacted`)
  const body = res.json()
  t.match(body.checks['observed:status'][0].observedValue, { url: 'redis://***@cache:6379', count: 3 }, 'the rest of an observation stays')
  t.match(body.checks['http:status'][0].output, /Bearer \*\*\*/)
  t.same(body.checks['deep:status'][0].observedValue, { a: { b: { c: { d: { e: '[nested]' } } } } }, 'past five levels an observation is cut, not walked')
})

t.test('paths and prefix are options', async (t) => {
  const app = await build(t, { routePrefix: '/_', paths: { live: '/alive', ready: '/ok', details: '/full' } })
  for (const url of ['/_/alive', '/_/ok', '/_/full']) t.equal((await app.inject(url)).statusCode, 200, url)
  t.equal((await app.inject('/health/ready')).statusCode, 404)
  const bare = await build(t, { routePrefix: '', paths: { live: '/livez', ready: '/readyz', details: '/healthz' } })
  t.equal((await bare.inject('/readyz')).statusCode, 200)
})

t.test('probes stay out of the request log unless logProbes', async (t) => {
  for (const logProbes of [false, true]) {
    const lines: any[] = []
    const app = await build(t, { logProbes }, { logger: { level: 'info', stream: { write: (l) => lines.push(JSON.parse(l)) } } })
    app.get('/work', async () => 'done')
    await app.inject('/health/ready')
    await app.inject('/work')
    const logged = lines.filter((l) => l.req?.url ?? l.res).length
    t.equal(lines.some((l) => l.req?.url === '/health/ready'), logProbes, `logProbes ${logProbes}`)
    t.ok(lines.some((l) => l.req?.url === '/work'), 'other requests are logged')
    t.ok(logged > 0)
  }
})

t.test('an observed Date or Map passes through redaction as itself, not as {}', async (t) => {
  const app = await build(t, {
    checks: {
      when: async () => ({ observedValue: new Date(0) }),
      nested: async () => ({ observedValue: { at: new Date(0), url: 'redis://u:secret11@h' } })
    }
  })
  const body = (await app.inject('/health')).json()
  t.equal(body.checks['when:status'][0].observedValue, '1970-01-01T00:00:00.000Z')
  t.same(body.checks['nested:status'][0].observedValue, { at: '1970-01-01T00:00:00.000Z', url: 'redis://***@h' })
})
