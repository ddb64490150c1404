/**
 * The live status page: one self-contained HTML document (no assets, no
 * framework) that polls the JSON view every second and draws the table,
 * with requests per second from the difference between two polls.
 */
export function dashboardPage (workersUrl: string, metricsUrl: string): string {
  const attr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Corral workers</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
  h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
  #summary { margin: 0 0 1rem; color: #555; }
  #summary b { color: #222; }
  table { border-collapse: collapse; }
  th, td { padding: .3rem .8rem; text-align: right; border-bottom: 1px solid #ddd; font-variant-numeric: tabular-nums; }
  th { background: #f4f4f4; }
  td.state { text-align: left; }
  tr.draining td { color: #a60; }
  tr.starting td { color: #06a; }
  .bad { color: #b00; font-weight: bold; }
  #error { color: #b00; }
</style>
</head>
<body>
<h1>Corral workers</h1>
<p id="summary"></p>
<table>
  <thead><tr><th>slot</th><th>pid</th><th>state</th><th>uptime</th><th>restarts</th><th>requests</th><th>req/s</th><th>errors</th><th>in flight</th><th>rss MB</th><th>heap MB</th><th>loop delay ms</th><th>loop busy</th><th>last push</th></tr></thead>
  <tbody id="rows"></tbody>
</table>
<p><a href="${attr(metricsUrl)}">metrics</a> · <a href="${attr(workersUrl)}">json</a> <span id="error"></span></p>
<script>
const WORKERS = ${JSON.stringify(workersUrl).replace(/</g, '\\u003c')}
let previous = new Map()
let previousAt = 0
const mb = (n) => n == null ? '–' : (n / 1048576).toFixed(1)
const num = (n) => n == null ? '–' : String(n)
const duration = (s) => s < 120 ? s + ' s' : s < 7200 ? Math.round(s / 60) + ' min' : Math.round(s / 3600) + ' h'
function cell (row, text, className) {
  const td = document.createElement('td')
  td.textContent = text
  if (className) td.className = className
  row.appendChild(td)
}
async function poll () {
  try {
    const res = await fetch(WORKERS, { cache: 'no-store' })
    const view = await res.json()
    const now = performance.now()
    const seconds = (now - previousAt) / 1000
    const rows = document.getElementById('rows')
    rows.replaceChildren()
    const seen = new Map()
    for (const w of view.workers) {
      const row = document.createElement('tr')
      row.className = w.state
      const before = previous.get(w.pid)
      const rate = before != null && w.requests != null && seconds > 0 ? Math.round((w.requests - before) / seconds) : null
      seen.set(w.pid, w.requests)
      cell(row, w.slot)
      cell(row, w.pid)
      cell(row, w.state, 'state')
      cell(row, duration(w.uptime))
      cell(row, w.restarts)
      cell(row, num(w.requests))
      cell(row, num(rate))
      cell(row, num(w.errors), w.errors > 0 ? 'bad' : '')
      cell(row, num(w.inFlight))
      cell(row, mb(w.rss))
      cell(row, mb(w.heapUsed))
      cell(row, num(w.eventLoopDelay), w.eventLoopDelay > 100 ? 'bad' : '')
      cell(row, w.eventLoopUtilization == null ? '–' : Math.round(w.eventLoopUtilization * 100) + ' %')
      cell(row, w.lastPush == null ? '–' : (w.lastPush / 1000).toFixed(1) + ' s ago', w.lastPush > 5000 ? 'bad' : '')
      rows.appendChild(row)
    }
    previous = seen
    previousAt = now
    const summary = document.getElementById('summary')
    summary.replaceChildren()
    const parts = [['workers', view.workers.length], ['requests', view.totals.requests], ['errors', view.totals.errors], ['restarts', view.restarts], ['reloads', view.reloads]]
    for (const [label, value] of parts) {
      summary.append(label + ' ')
      const b = document.createElement('b')
      b.textContent = value
      summary.append(b, ' · ')
    }
    const loop = document.createElement('b')
    loop.textContent = view.crashLoop ? 'CRASH LOOP' : view.stopping ? 'stopping' : 'running'
    if (view.crashLoop) loop.className = 'bad'
    summary.append(loop)
    document.getElementById('error').textContent = ''
  } catch (err) {
    document.getElementById('error').textContent = 'cannot reach the admin server: ' + err.message
  }
}
poll()
setInterval(poll, 1000)
</script>
</body>
</html>
`
}
