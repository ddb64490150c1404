/**
 * The live status page: one self-contained HTML document (no assets, no
 * CDN, no build step; charts are SVG drawn by the page) that polls the JSON
 * view and the history every second. The history comes from a ring buffer
 * in the primary, so a page opened late draws the last 15 minutes.
 */
export function dashboardPage (workersUrl: string, historyUrl: string, metricsUrl: string, healthUrl: string | false): string {
  const attr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')
  const js = (s: string): string => JSON.stringify(s).replace(/</g, '\\u003c')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Corral workers</title>
<link rel="icon" href="data:,">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; }
  h1 { font-size: 1.3rem; margin: 0 0 .5rem; display: inline-block; }
  #status { display: inline-block; margin-left: 1rem; padding: .1rem .6rem; border-radius: .8rem; background: #2a7; color: #fff; font-weight: bold; }
  #status.stopping, #status.unreachable { background: #b60; }
  #status.crashloop { background: #b00; }
  #readiness { display: inline-block; margin-left: .5rem; padding: .1rem .6rem; border-radius: .8rem; border: 1px solid #ccc; }
  #readiness:empty { display: none; }
  #readiness.pass { color: #1a7f37; border-color: #1a7f37; }
  #readiness.warn { color: #a60; border-color: #a60; }
  #readiness.fail { color: #b00; border-color: #b00; }
  #summary { margin: .3rem 0 1rem; color: #555; }
  #summary b { color: #222; }
  body.stale #view { opacity: .45; filter: grayscale(1); }
  #charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 1rem; margin-bottom: 1rem; }
  .chart h2 { font-size: .9rem; margin: 0 0 .2rem; font-weight: 600; }
  .chart svg { width: 100%; height: 140px; background: #fafafa; border: 1px solid #e4e4e4; }
  .chart .legend { font-size: .75rem; color: #555; }
  .chart .legend span { margin-right: .6rem; white-space: nowrap; }
  line.marker { stroke-width: 1.5; stroke-dasharray: 3 2; }
  line.marker.crash, line.marker.restart { stroke: #c00; }
  line.marker.reload { stroke: #06c; }
  line.marker.memory { stroke: #a0a; }
  line.marker.unresponsive { stroke: #e80; }
  table { border-collapse: collapse; }
  th, td { padding: .3rem .7rem; text-align: right; border-bottom: 1px solid #ddd; font-variant-numeric: tabular-nums; }
  th { background: #f4f4f4; }
  td.state { text-align: left; font-weight: 600; }
  td.error { text-align: left; color: #b00; }
  tr.starting td.state { color: #06a; }
  tr.ready td.state { color: #1a7f37; }
  tr.draining td.state { color: #a60; }
  tr.unresponsive td { background: #fff1e0; }
  tr.unresponsive td.state { color: #e60; }
  tr.backoff td { background: #fde8e8; }
  tr.backoff td.state { color: #b00; }
  .bad { color: #b00; font-weight: bold; }
  #markers { font-size: .8rem; color: #555; max-height: 8rem; overflow: auto; }
</style>
</head>
<body>
<h1>Corral workers</h1><span id="status">loading</span><span id="readiness"></span>
<div id="view">
<p id="summary"></p>
<div id="charts"></div>
<table>
  <thead><tr><th>slot</th><th>pid</th><th>state</th><th>uptime</th><th>restarts</th><th>requests</th><th>req/s</th><th>errors</th><th>in flight</th><th>connections</th><th>rss MB</th><th>heap MB</th><th>loop delay ms</th><th>loop busy</th><th>last push</th><th>last error</th></tr></thead>
  <tbody id="rows"></tbody>
</table>
<div id="markers"></div>
</div>
<p><a href="${attr(metricsUrl)}">metrics</a> · <a href="${attr(workersUrl)}">json</a> · <a href="${attr(historyUrl)}">history</a></p>
<script>
const WORKERS = ${js(workersUrl)}
const HISTORY = ${js(historyUrl)}
const HEALTH = ${healthUrl === false ? 'null' : js(healthUrl)}
const WINDOW = 15 * 60 * 1000
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22']
const CHARTS = [
  { id: 'rps', title: 'requests/s', keys: ['rps'] },
  { id: 'latency', title: 'latency p50 / p99 (ms)', keys: ['p50', 'p99'] },
  { id: 'errors', title: '5xx answers/s', keys: ['errors'] },
  { id: 'inflight', title: 'requests in flight', keys: ['inFlight'] },
  { id: 'memory', title: 'RSS / heap used (MB)', keys: ['rss', 'heap'], scale: 1 / 1048576 },
  { id: 'lag', title: 'event-loop delay, longest (ms)', keys: ['lag'] },
  { id: 'elu', title: 'event-loop utilisation (%)', keys: ['elu'], scale: 100 }
]
const SVG = 'http://www.w3.org/2000/svg'
let samples = []
let markers = []
let lastErrors = {}
let last = 0
let view = null

const mb = (n) => n == null ? '–' : (n / 1048576).toFixed(1)
const num = (n) => n == null ? '–' : String(n)
const duration = (s) => s < 120 ? s + ' s' : s < 7200 ? Math.round(s / 60) + ' min' : Math.round(s / 3600) + ' h'
const el = (name, attrs, parent) => {
  const e = document.createElementNS(SVG, name)
  for (const k in attrs) e.setAttribute(k, attrs[k])
  if (parent) parent.appendChild(e)
  return e
}

function setup () {
  const box = document.getElementById('charts')
  for (const c of CHARTS) {
    const div = document.createElement('div')
    div.className = 'chart'
    div.id = 'chart-' + c.id
    const h = document.createElement('h2')
    h.textContent = c.title
    div.append(h, el('svg', { viewBox: '0 0 600 140', preserveAspectRatio: 'none' }))
    const legend = document.createElement('div')
    legend.className = 'legend'
    div.append(legend)
    box.appendChild(div)
  }
}

function draw () {
  const now = samples.length ? samples[samples.length - 1].t : Date.now()
  // the last 15 minutes, or what there is of them (a minute at least)
  const span = Math.min(WINDOW, Math.max(60000, samples.length ? now - samples[0].t : 0))
  const from = now - span
  const x = (t) => ((t - from) / span) * 600
  const slots = new Set()
  for (const s of samples) for (const k in s.workers) slots.add(k)
  for (const c of CHARTS) {
    const div = document.getElementById('chart-' + c.id)
    const svg = div.querySelector('svg')
    svg.replaceChildren()
    const lines = []
    for (const [ki, key] of c.keys.entries()) {
      lines.push({ name: 'total' + (c.keys.length > 1 ? ' ' + key : ''), cls: 'total', key, color: ki ? '#555' : '#000', width: 2, dash: ki ? '4 2' : '', pick: (s) => s.total })
      for (const slot of slots) lines.push({ name: 'worker ' + slot + (c.keys.length > 1 ? ' ' + key : ''), cls: 'worker w' + slot, key, color: COLORS[slot % COLORS.length], width: 1, dash: ki ? '4 2' : '', pick: (s) => s.workers[slot] })
    }
    let max = 0
    const series = lines.map((l) => {
      const pts = []
      for (const s of samples) {
        const p = l.pick(s)
        if (p == null || p[l.key] == null) continue
        const v = p[l.key] * (c.scale || 1)
        if (v > max) max = v
        pts.push([x(s.t), v])
      }
      return { l, pts }
    })
    max = max > 0 ? max * 1.1 : 1
    const y = (v) => 135 - (v / max) * 125
    for (const m of markers) {
      if (m.t < from) continue
      const line = el('line', { class: 'marker ' + m.kind, x1: x(m.t), x2: x(m.t), y1: 0, y2: 140 }, svg)
      el('title', {}, line).textContent = m.kind + (m.slot == null ? '' : ' slot ' + m.slot) + ': ' + m.detail
    }
    for (const { l, pts } of series) {
      const poly = el('polyline', { class: l.cls, fill: 'none', stroke: l.color, 'stroke-width': l.width, 'stroke-dasharray': l.dash, 'vector-effect': 'non-scaling-stroke', points: pts.map(([a, b]) => a.toFixed(1) + ',' + y(b).toFixed(1)).join(' ') }, svg)
      poly.dataset.points = pts.length
      poly.dataset.series = l.name
    }
    el('text', { x: 4, y: 12, 'font-size': 11, fill: '#777' }, svg).textContent = 'max ' + (max / 1.1).toFixed(max < 10 ? 2 : 0)
    const legend = div.querySelector('.legend')
    legend.replaceChildren()
    for (const { l } of series) {
      const span = document.createElement('span')
      span.style.color = l.color
      span.textContent = '— ' + l.name
      legend.append(span)
    }
  }
  const list = document.getElementById('markers')
  list.replaceChildren()
  for (const m of markers.slice(-20).reverse()) {
    const p = document.createElement('div')
    p.className = 'marker-item ' + m.kind
    p.textContent = new Date(m.t).toLocaleTimeString() + ' ' + m.kind + (m.slot == null ? '' : ' slot ' + m.slot) + ': ' + m.detail
    list.append(p)
  }
}

function cell (row, text, className) {
  const td = document.createElement('td')
  td.textContent = text
  if (className) td.className = className
  row.appendChild(td)
}

function table () {
  const rows = document.getElementById('rows')
  rows.replaceChildren()
  const latest = samples[samples.length - 1]
  const shown = new Set()
  for (const w of view.workers) {
    shown.add(w.slot)
    const row = document.createElement('tr')
    const state = w.unresponsive ? 'unresponsive' : w.state
    row.className = state
    row.dataset.pid = w.pid
    const rate = latest && latest.workers[w.slot] ? Math.round(latest.workers[w.slot].rps) : null
    cell(row, w.slot)
    cell(row, w.pid, 'pid')
    cell(row, state, 'state')
    cell(row, duration(w.uptime))
    cell(row, w.restarts)
    cell(row, num(w.requests))
    cell(row, num(rate))
    cell(row, num(w.errors), w.errors > 0 ? 'bad' : '')
    cell(row, num(w.inFlight))
    cell(row, num(w.openConnections))
    cell(row, mb(w.rss))
    cell(row, mb(w.heapUsed))
    cell(row, num(w.eventLoopDelay), w.eventLoopDelay > 100 ? 'bad' : '')
    cell(row, w.eventLoopUtilization == null ? '–' : Math.round(w.eventLoopUtilization * 100) + ' %')
    cell(row, w.lastPush == null ? '–' : (w.lastPush / 1000).toFixed(1) + ' s ago', w.unresponsive ? 'bad' : '')
    const err = lastErrors[w.slot]
    cell(row, err ? err.detail + ', ' + new Date(err.t).toLocaleTimeString() : '', 'error')
    rows.appendChild(row)
  }
  // a slot with no live worker: backing off after crashes
  for (const s of view.slots || []) {
    if (shown.has(s.slot) || s.status !== 'backoff') continue
    const row = document.createElement('tr')
    row.className = 'backoff'
    cell(row, s.slot)
    cell(row, '–')
    cell(row, 'crash-looping', 'state')
    for (let i = 0; i < 12; i++) cell(row, '')
    const err = lastErrors[s.slot]
    cell(row, err ? err.detail : '', 'error')
    rows.appendChild(row)
  }
}

function summary () {
  const el = document.getElementById('summary')
  el.replaceChildren()
  const parts = [['workers', view.workers.length], ['requests', view.totals.requests], ['errors', view.totals.errors], ['restarts', view.restarts], ['reloads', view.reloads], ['memory restarts', view.memoryRestarts]]
  for (const [i, [label, value]] of parts.entries()) {
    const b = document.createElement('b')
    b.textContent = value
    el.append(i ? ' · ' : '', label + ' ', b)
  }
}

function status (text, cls, stale) {
  const s = document.getElementById('status')
  s.textContent = text
  s.className = cls
  document.body.classList.toggle('stale', stale)
}

async function getJSON (url) {
  const res = await fetch(url, { cache: 'no-store' })
  if (!res.ok) {
    const err = new Error(res.status === 503 ? 'the server is stopping' : 'the admin server answered ' + res.status)
    err.stopping = res.status === 503
    throw err
  }
  return res.json()
}

// the machine's readiness, from @corral/health's aggregator when it is there (404 otherwise: nothing shown)
async function readiness () {
  const badge = document.getElementById('readiness')
  try {
    const res = await fetch(HEALTH, { cache: 'no-store' })
    const body = res.status === 404 ? null : await res.json()
    badge.textContent = body && body.status ? 'readiness: ' + body.status : ''
    badge.className = body && body.status ? body.status : ''
  } catch {
    badge.textContent = ''
  }
}

async function poll () {
  if (HEALTH) readiness()
  try {
    const [next, hist] = await Promise.all([getJSON(WORKERS), getJSON(HISTORY + '?since=' + last)])
    if (!Array.isArray(next.workers) || !Array.isArray(hist.samples)) throw new Error('unexpected answer')
    view = next
    for (const s of hist.samples) samples.push(s)
    // a marker can come back in the next answer (its time is after the last sample's)
    for (const m of hist.markers) if (!markers.some((o) => o.t === m.t && o.kind === m.kind && o.pid === m.pid)) markers.push(m)
    lastErrors = hist.lastErrors
    if (samples.length) last = samples[samples.length - 1].t
    const cutoff = last - WINDOW
    while (samples.length && samples[0].t < cutoff) samples.shift()
    while (markers.length && markers[0].t < cutoff) markers.shift()
    table()
    summary()
    draw()
    if (view.crashLoop) status('CRASH LOOP', 'crashloop', false)
    else if (view.stopping) status('stopping', 'stopping', false)
    else status('running', 'running', false)
  } catch (err) {
    // the last good view stays, greyed out
    if (err.stopping) status('stopping: ' + err.message, 'stopping', true)
    else status('unreachable: ' + err.message, 'unreachable', true)
  }
}
setup()
poll()
setInterval(poll, 1000)
</script>
</body>
</html>
`
}
