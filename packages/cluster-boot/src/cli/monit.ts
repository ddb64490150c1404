import { duration, fixed, mb, state, table, type State } from './commands.js'
import type { AdminTarget } from './parse.js'

const HEADER = ['APP', 'SLOT', 'PID', 'STATE', 'UPTIME', 'RESTARTS', 'CPU', 'MEMORY', 'REQ/S', 'LOOP']

// ANSI: the alternate screen (the shell's screen comes back on quit), cursor hidden, home, erase to line / screen end
const ENTER = '\x1b[?1049h\x1b[?25l'
const LEAVE = '\x1b[?25h\x1b[?1049l'
const HOME = '\x1b[H'
const ERASE_LINE = '\x1b[K'
const ERASE_BELOW = '\x1b[J'
// q, Q, Ctrl-C (raw mode delivers it as a byte, not a signal), Ctrl-D, Esc
const QUIT_KEYS = new Set(['q', 'Q', '\x03', '\x04', '\x1b'])

/** One screen: a row per worker of every app, then the totals. */
export function frame (apps: Array<{ target: AdminTarget, state: State | Error }>, interval: number, now = new Date()): string[] {
  const rows = [HEADER]
  let cpu = 0
  let rss = 0
  let rps = 0
  let workers = 0
  for (const { target, state: s } of apps) {
    if (s instanceof Error) {
      rows.push([target.name ?? target.url, '-', '-', 'unreachable', '-', '-', '-', '-', '-', '-'])
      continue
    }
    const name = s.name ?? target.name ?? target.url
    for (const w of [...s.workers].sort((a, b) => a.slot - b.slot || a.uptime - b.uptime)) {
      workers++
      cpu += w.cpu ?? 0
      rss += w.rss ?? 0
      rps += w.requestsPerSecond ?? 0
      rows.push([name, String(w.slot), String(w.pid), w.state, duration(w.uptime), String(w.restarts), fixed(w.cpu, '%'), mb(w.rss), fixed(w.requestsPerSecond), fixed(w.eventLoopDelay, ' ms')])
    }
    for (const slot of s.slots) {
      if (!s.workers.some((w) => w.slot === slot.slot)) rows.push([name, String(slot.slot), '-', slot.status, '-', String(slot.crashes), '-', '-', '-', '-'])
    }
  }
  return [
    `corral monit: ${apps.length} app${apps.length === 1 ? '' : 's'}, ${workers} worker${workers === 1 ? '' : 's'}, every ${(interval / 1000).toFixed(1)}s; q quits  ${now.toTimeString().slice(0, 8)}`,
    '',
    ...table(rows).split('\n'),
    '',
    `total: CPU ${cpu.toFixed(1)}%  memory ${mb(rss)}  ${rps.toFixed(1)} req/s`
  ]
}

async function sample (targets: AdminTarget[]): Promise<Array<{ target: AdminTarget, state: State | Error }>> {
  return Promise.all(targets.map(async (target) => {
    try {
      return { target, state: await state(target) }
    } catch (err) {
      return { target, state: err as Error }
    }
  }))
}

/**
 * A live table of every worker of the apps `targets()` names (asked again
 * each refresh, so apps started or stopped meanwhile come and go), until q,
 * Ctrl-C or SIGTERM. Fails at once, like the other verbs, when no app is running.
 */
export async function monit (targets: () => AdminTarget[], interval = 1000, stdin: NodeJS.ReadStream = process.stdin, stdout: NodeJS.WriteStream = process.stdout): Promise<string> {
  const first = targets()
  const firstSample = await sample(first)
  // one app asked for and it does not answer: say so in one line, as list would
  if (first.length === 1 && firstSample[0].state instanceof Error) throw firstSample[0].state

  const tty = stdout.isTTY === true
  let timer: NodeJS.Timeout | undefined
  let done!: () => void
  const finished = new Promise<void>((resolve) => { done = resolve })
  let quitting = false
  const quit = (): void => {
    if (quitting) return
    quitting = true
    clearTimeout(timer)
    done()
  }
  const onKey = (key: Buffer | string): void => {
    if (QUIT_KEYS.has(key.toString())) quit()
  }
  if (stdin.isTTY === true) stdin.setRawMode(true)
  stdin.on('data', onKey)
  stdin.resume()
  process.on('SIGINT', quit)
  process.on('SIGTERM', quit)
  if (tty) stdout.write(ENTER)

  const draw = (apps: Array<{ target: AdminTarget, state: State | Error }>, note?: string): void => {
    const lines = note === undefined ? frame(apps, interval) : [note]
    const width = stdout.columns ?? 0
    const fit = (line: string): string => width > 0 && line.length > width ? line.slice(0, width) : line
    if (tty) stdout.write(`${HOME}${lines.map((l) => `${fit(l)}${ERASE_LINE}`).join('\n')}\n${ERASE_BELOW}`)
    else stdout.write(`${lines.join('\n')}\n\n`)
  }
  const tick = async (given?: Array<{ target: AdminTarget, state: State | Error }>): Promise<void> => {
    let apps = given ?? []
    let note: string | undefined
    try {
      if (given === undefined) apps = await sample(targets())
    } catch (err) {
      // every app stopped since: keep watching, one may come back
      note = `corral monit: ${(err as Error).message}; q quits`
    }
    // a quit while the sample was under way: the shell's screen is back, draw nothing on it
    if (quitting) return
    draw(apps, note)
    timer = setTimeout(() => { tick() }, interval)
  }
  tick(firstSample)
  await finished

  stdin.off('data', onKey)
  if (stdin.isTTY === true) stdin.setRawMode(false)
  stdin.pause()
  process.off('SIGINT', quit)
  process.off('SIGTERM', quit)
  if (tty) stdout.write(LEAVE)
  return ''
}
