/**
 * GET /chat: one page, no build step. It connects to /live, shows what every
 * worker fans out, and reconnects when its worker goes away (1001 on a reload).
 */
export const chatPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Corral live channel</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  #log { border: 1px solid #ccc; height: 20rem; overflow-y: auto; padding: .5rem; }
  #log p { margin: .2rem 0; }
  .meta { color: #777; font-size: 12px; }
  form { display: flex; gap: .5rem; margin-top: .5rem; }
  input { flex: 1; padding: .4rem; }
</style>
</head>
<body>
<h1>Live channel</h1>
<p id="status" class="meta">connecting</p>
<div id="log" aria-live="polite"></div>
<form id="form"><input id="text" autocomplete="off" placeholder="say something to every worker's clients" maxlength="4096"><button>Send</button></form>
<script>
  const log = document.getElementById('log')
  const status = document.getElementById('status')
  const add = (text, meta) => {
    const p = document.createElement('p')
    p.textContent = text
    if (meta) { const s = document.createElement('span'); s.className = 'meta'; s.textContent = ' ' + meta; p.append(s) }
    log.append(p)
    log.scrollTop = log.scrollHeight
  }
  let socket
  function connect () {
    socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/live')
    socket.onmessage = (event) => {
      const data = JSON.parse(event.data)
      if (data.hello) status.textContent = 'connected to worker ' + data.slot + ' (pid ' + data.pid + ')'
      else add(data.text, 'from worker ' + data.fromSlot)
    }
    socket.onclose = (event) => {
      status.textContent = 'disconnected (' + event.code + '), reconnecting'
      setTimeout(connect, event.code === 1001 ? 100 : 1000)
    }
  }
  connect()
  document.getElementById('form').onsubmit = (event) => {
    event.preventDefault()
    const input = document.getElementById('text')
    if (input.value.trim() !== '' && socket.readyState === WebSocket.OPEN) socket.send(input.value)
    input.value = ''
  }
</script>
</body>
</html>
`
