/**
 * GET /chat: one page, no build step, no CDN. Two panes on one channel: plain
 * WebSockets (/live) and Socket.IO (its client script served by the app at
 * /socket.io/socket.io.js). Each shows what every worker fans out, whichever
 * transport it was sent on, and reconnects when its worker goes away: the
 * WebSocket on 1001 (a reload), Socket.IO by itself, recovering what it missed.
 */
export const chatPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Corral live channel</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem; }
  main { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5rem; }
  .log { border: 1px solid #ccc; height: 20rem; overflow-y: auto; padding: .5rem; }
  .log p { margin: .2rem 0; }
  .meta { color: #777; font-size: 12px; }
  form { display: flex; gap: .5rem; margin-top: .5rem; }
  input { flex: 1; padding: .4rem; }
</style>
</head>
<body>
<h1>Live channel</h1>
<main>
<section id="ws">
  <h2>WebSocket</h2>
  <p class="status meta">connecting</p>
  <div class="log" aria-live="polite"></div>
  <form><input autocomplete="off" placeholder="say something to every worker's clients" maxlength="4096"><button>Send</button></form>
</section>
<section id="sio">
  <h2>Socket.IO</h2>
  <p class="status meta">connecting</p>
  <div class="log" aria-live="polite"></div>
  <form><input autocomplete="off" placeholder="say something to every worker's clients" maxlength="4096"><button>Send</button></form>
</section>
</main>
<script src="/socket.io/socket.io.js"></script>
<script>
  function pane (id, send) {
    const root = document.getElementById(id)
    const log = root.querySelector('.log')
    const status = root.querySelector('.status')
    root.querySelector('form').onsubmit = (event) => {
      event.preventDefault()
      const input = root.querySelector('input')
      if (input.value.trim() !== '') send(input.value)
      input.value = ''
    }
    return {
      status (text) { status.textContent = text },
      add (message) {
        const p = document.createElement('p')
        p.textContent = message.text
        const s = document.createElement('span')
        s.className = 'meta'
        s.textContent = ' from worker ' + message.fromSlot + (message.transport ? ' over ' + message.transport : '')
        p.append(s)
        log.append(p)
        log.scrollTop = log.scrollHeight
      }
    }
  }

  let socket
  const ws = pane('ws', (text) => { if (socket.readyState === WebSocket.OPEN) socket.send(text) })
  function connect () {
    socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/live')
    socket.onmessage = (event) => {
      const data = JSON.parse(event.data)
      if (data.hello) ws.status('connected to worker ' + data.slot + ' (pid ' + data.pid + ')')
      else if (data.channel === 'chat') ws.add(data.data)
    }
    socket.onclose = (event) => {
      ws.status('disconnected (' + event.code + '), reconnecting')
      setTimeout(connect, event.code === 1001 ? 100 : 1000)
    }
  }
  connect()

  const sio = io()
  const chat = pane('sio', (text) => sio.emit('chat', text))
  sio.on('hello', (h) => chat.status('connected to worker ' + h.slot + ' (pid ' + h.pid + ')' + (h.recovered ? ', session recovered' : '')))
  sio.on('disconnect', (reason) => chat.status('disconnected (' + reason + '), reconnecting'))
  sio.on('chat', (message) => chat.add(message))
</script>
</body>
</html>
`
