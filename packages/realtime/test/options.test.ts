// Options checked at registration, and the plugin alone (no cluster): one
// process, so a broadcast reaches its own WebSocket and Socket.IO clients.
import Fastify from 'fastify'
import { test } from 'tap'
import WebSocket from 'ws'
import { corralRealtime, errors, GOING_AWAY } from '@corral/realtime'
import { closeAll, hellos, sioClient, waitFor } from './helpers.js'

test('a wrong option fails at registration, naming it', async (t) => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ websocket: 'yes' }, 'websocket'],
    [{ websocket: null }, 'websocket'],
    [{ socketio: 1 }, 'socketio'],
    [{ socketio: [] }, 'socketio'],
    [{ socketio: true, redis: {} }, 'redis'],
    [{ socketio: true, redis: 'redis://127.0.0.1' }, 'redis'],
    [{ redis: { duplicate () { return this } } }, 'redis'],
    [{ shutdownDelay: -1 }, 'shutdownDelay'],
    [{ shutdownDelay: 1.5 }, 'shutdownDelay'],
    [{ shutdownDelay: '1s' }, 'shutdownDelay'],
    [{ channelPrefix: 7 }, 'channelPrefix'],
    [{ channelPrefix: 'x'.repeat(65) }, 'channelPrefix'],
    [{ socketio: true, redis: 5 }, 'redis']
  ]
  for (const [options, name] of cases) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(corralRealtime, options as never).ready() }, { code: 'CORRAL_REALTIME_INVALID_OPTION', message: new RegExp(`"${name}"`) }, `${name}: ${JSON.stringify(options)}`)
    await app.close()
  }
  const app = Fastify()
  t.teardown(() => app.close())
  // options objects without a prototype are plain options too
  await app.register(corralRealtime, { websocket: true, socketio: Object.create(null) }).ready()
  t.equal(app.realtime.adapter, 'memory', 'accepted: websocket true, socketio an object with a null prototype')
})

test('alone: a broadcast reaches the process\'s WebSocket and Socket.IO clients; a close sends 1001 Going Away', async (t) => {
  const app = Fastify()
  await app.register(corralRealtime, { socketio: true })
  t.equal(app.realtime.adapter, 'memory')
  const serverSockets: WebSocket[] = []
  app.get('/ws', { websocket: true }, async (socket) => {
    serverSockets.push(socket)
    await app.realtime.subscribe(socket, 'news')
    socket.send(JSON.stringify({ hello: true }))
  })
  app.realtime.io?.on('connection', async (socket) => {
    await app.realtime.subscribe(socket, 'news')
    socket.emit('hello', { slot: null, pid: process.pid, recovered: socket.recovered })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const port = (app.server.address() as { port: number }).port

  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`)
  const frames: unknown[] = []
  const closed = new Promise<number>((resolve) => ws.on('close', resolve))
  ws.on('message', (raw) => frames.push(JSON.parse(raw.toString())))
  await waitFor(() => frames.length === 1, { message: 'the WebSocket hello' })
  const sio = sioClient(port, { transports: ['websocket'] })
  t.teardown(() => closeAll([sio]))
  await hellos(sio)
  t.same(app.realtime.connections, { websocket: 1, socketio: 1 }, 'connections counted by transport')

  await app.realtime.broadcast('news', { text: 'hello all' })
  await waitFor(() => frames.length === 2 && sio.news.length === 1, { message: 'both clients to get it' })
  t.same(frames[1], { channel: 'news', data: { text: 'hello all' } }, 'the WebSocket frame names the channel')
  t.same(sio.news, [{ text: 'hello all' }], 'the Socket.IO event is the channel')

  await app.realtime.broadcast('other', { text: 'not for them' })
  const [server] = app.realtime.io?.of('/').sockets.values() ?? []
  await app.realtime.unsubscribe(server, 'news')
  await app.realtime.broadcast('news', { text: 'websocket only' })
  await waitFor(() => frames.length === 3, { message: 'the second broadcast' })
  t.same(sio.news.length, 1, 'an unsubscribed Socket.IO socket gets nothing more')

  await app.realtime.unsubscribe(serverSockets[0], 'news')
  await app.realtime.unsubscribe(serverSockets[0], 'news')
  await app.realtime.broadcast('news', { text: 'nobody' })
  // published after the one not sent: had it been sent, it would come first
  await app.realtime.subscribe(serverSockets[0], 'other')
  await app.realtime.broadcast('other', { text: 'after' })
  await waitFor(() => frames.length === 4, { message: 'the broadcast on the other channel' })
  t.same(frames[3], { channel: 'other', data: { text: 'after' } }, 'an unsubscribed WebSocket gets nothing more on that channel')

  await t.rejects(app.realtime.broadcast('', {}), { code: 'CORRAL_REALTIME_INVALID_CHANNEL' })
  await t.rejects(app.realtime.subscribe({} as never, 'news'), { code: 'CORRAL_REALTIME_INVALID_SOCKET' })
  t.equal(app.realtime.draining, false)
  await app.close()
  t.equal(await closed, GOING_AWAY, 'the WebSocket hears 1001 on close')
  t.equal(app.realtime.draining, true)
})

test('websocket: false leaves WebSockets out', async (t) => {
  const app = Fastify()
  await app.register(corralRealtime, { websocket: false })
  t.notOk(app.hasDecorator('websocketServer'))
  t.same(app.realtime.connections, { websocket: 0, socketio: 0 })
  t.equal(app.realtime.io, undefined)
  await app.realtime.broadcast('news', 'nobody listens')
  const ws = { send () {}, terminate () {}, readyState: 1 }
  await t.rejects(app.realtime.subscribe(ws as never, 'news'), { code: 'CORRAL_REALTIME_INVALID_SOCKET', message: /websocket` option is off/ }, 'a WebSocket cannot subscribe')
  await app.close()
})

test('the app\'s own allowRequest still decides, after the draining check', async (t) => {
  const app = Fastify()
  const reason = 'not you'
  await app.register(corralRealtime, { socketio: { allowRequest: (_req, callback) => callback(reason, false) } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const sio = sioClient((app.server.address() as { port: number }).port, { transports: ['polling'], reconnection: false })
  t.teardown(() => closeAll([sio]))
  await waitFor(() => sio.errors.length > 0, { message: 'the refusal' })
  t.match(sio.errors[0], /connect_error/, 'refused')
  t.same(sio.hellos, [])
})

test('the error classes carry codes', async (t) => {
  t.equal(new errors.NoBusError().code, 'CORRAL_REALTIME_NO_BUS')
  t.equal(new errors.NoPrimaryError().code, 'CORRAL_REALTIME_NO_PRIMARY')
  t.equal(new errors.DrainingError().statusCode, 503)
})

test('with @corral/metrics registered first, the open connections are a gauge by transport', async (t) => {
  const { default: corralMetrics } = await import('@corral/metrics')
  const app = Fastify()
  await app.register(corralMetrics)
  await app.register(corralRealtime, { socketio: true })
  t.teardown(() => app.close())
  const res = await app.inject('/metrics')
  t.match(res.body, /corral_realtime_connections\{transport="websocket"\} 0/)
  t.match(res.body, /corral_realtime_connections\{transport="socketio"\} 0/)
})
