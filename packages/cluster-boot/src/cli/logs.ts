import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs'
import path from 'node:path'
import { currentLogFile, defaultLogDir, rotatedLogFile } from '../log-files.js'
import { prettyLine } from '../pretty.js'
import { ControlError } from './client.js'

/** `corral logs <name> [--lines N] [--slot N] [--json] [--dir <dir>]` */
export interface LogsCommand {
  command: 'logs'
  name: string
  /** lines printed before following (default 15) */
  lines: number
  /** only this slot's lines (the primary's own lines have none) */
  slot: number | undefined
  /** the lines as written (JSON), even on a terminal */
  json: boolean
  /** the app's `logs.dir` (default ~/.corral/logs) */
  dir: string
}

const POLL_MS = 200
const CHUNK = 64 * 1024

/** The `logs` verb's arguments; a TypeError (printed with the usage, exit 2) when one is wrong. */
export function parseLogs (rest: string[], values: { lines?: string, slot?: string, json?: boolean, dir?: string }, env: NodeJS.ProcessEnv): LogsCommand {
  const name = rest[0]
  if (name === undefined) throw new TypeError('corral logs: give the app\'s name, as in `corral logs api`')
  const count = (flag: string, value: string | undefined, fallback: number | undefined): number | undefined => {
    if (value === undefined) return fallback
    if (!/^\d+$/.test(value)) throw new TypeError(`corral logs: --${flag} takes a whole number (got ${JSON.stringify(value)})`)
    return Number(value)
  }
  return {
    command: 'logs',
    name,
    lines: count('lines', values.lines, 15) as number,
    slot: count('slot', values.slot, undefined),
    json: values.json === true,
    dir: path.resolve(values.dir ?? defaultLogDir(env))
  }
}

/** The app's files, oldest first: `<app>.log.N` ... `<app>.log.1`, `<app>.log`. */
function logFiles (dir: string, name: string): string[] {
  let entries: string[]
  try { entries = readdirSync(dir) } catch { entries = [] }
  const prefix = `${name}.log.`
  const rotated = entries
    .filter((f) => f.startsWith(prefix) && /^\d+$/.test(f.slice(prefix.length)))
    .map((f) => Number(f.slice(prefix.length)))
    .sort((a, b) => b - a)
    .map((n) => rotatedLogFile(dir, name, n))
  const current = currentLogFile(dir, name)
  return entries.includes(path.basename(current)) ? [...rotated, current] : rotated
}

function matches (line: string, slot: number | undefined): boolean {
  if (line === '') return false
  if (slot === undefined) return true
  try {
    return (JSON.parse(line) as { slot?: unknown }).slot === slot
  } catch {
    return false
  }
}

/**
 * Prints the last lines of an app's log files, then follows the current
 * one, across its rotations, until stopped. Throws a ControlError (one
 * line, exit 1) when the app has no logs there.
 */
export async function logs (cmd: LogsCommand, out: NodeJS.WriteStream = process.stdout, signal?: AbortSignal): Promise<void> {
  const files = logFiles(cmd.dir, cmd.name)
  if (files.length === 0) {
    throw new ControlError(`no logs for ${JSON.stringify(cmd.name)} in ${cmd.dir}: is an app of that name running (corral start --name ${cmd.name}), or are its logs elsewhere (--dir)?`)
  }
  const pretty = !cmd.json && out.isTTY === true
  let broken = false
  out.on('error', () => { broken = true })
  const print = (line: string): void => {
    if (!broken && matches(line, cmd.slot)) out.write(pretty ? prettyLine(line) : `${line}\n`)
  }

  // the current file is followed from where its last lines were read: nothing written in between is missed
  const current = currentLogFile(cmd.dir, cmd.name)
  let fd: number | undefined
  let position = 0
  try {
    fd = openSync(current, 'r')
    position = fstatSync(fd).size
  } catch {}

  const last: string[] = []
  for (const file of [...files].reverse()) {
    if (last.length >= cmd.lines) break
    let text: string
    try {
      text = file === current && fd !== undefined ? readRange(fd, 0, position) : readFileSync(file, 'utf8')
    } catch {
      continue
    }
    const lines = text.split('\n').filter((l) => matches(l, cmd.slot))
    last.unshift(...lines.slice(Math.max(0, lines.length - (cmd.lines - last.length))))
  }
  for (const line of last) print(line)

  let partial = ''
  const take = (text: string): void => {
    const lines = (partial + text).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) print(line)
  }
  // until stopped, or until nothing reads what it prints (`corral logs api | head`)
  for (;;) {
    if (signal?.aborted === true || broken) break
    if (fd !== undefined) {
      const size = fstatSync(fd).size
      if (size < position) position = 0 // truncated in place
      if (size > position) {
        take(readRange(fd, position, size))
        position = size
      }
    }
    // rotated: the path names another file now; what the old one got last was read above
    let ino: number | undefined
    try { ino = statSync(current).ino } catch {}
    if (ino !== undefined && (fd === undefined || fstatSync(fd).ino !== ino)) {
      if (fd !== undefined) {
        const size = fstatSync(fd).size
        if (size > position) take(readRange(fd, position, size))
        closeSync(fd)
      }
      if (partial !== '') take('\n')
      try {
        fd = openSync(current, 'r')
      } catch {
        fd = undefined
      }
      position = 0
      continue
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
  if (fd !== undefined) closeSync(fd)
}

function readRange (fd: number, from: number, to: number): string {
  const buffer = Buffer.alloc(Math.min(to - from, CHUNK))
  const parts: Buffer[] = []
  for (let at = from; at < to;) {
    const n = readSync(fd, buffer, 0, Math.min(buffer.length, to - at), at)
    if (n === 0) break
    parts.push(Buffer.from(buffer.subarray(0, n)))
    at += n
  }
  return Buffer.concat(parts).toString('utf8')
}
