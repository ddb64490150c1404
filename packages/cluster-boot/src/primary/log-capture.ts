import { mkdirSync } from 'node:fs'
import type { Readable, Writable } from 'node:stream'
import { createStream, type RotatingFileStream } from 'rotating-file-stream'
import type { ResolvedLogsOptions } from '../options.js'
import { prettyLine } from '../pretty.js'

/** A line longer than this (characters) is cut here and marked `truncated`; the rest of it is dropped. */
export const MAX_LINE = 64 * 1024

const INFO = 30
const ERROR = 50

export interface LogCaptureOptions {
  /** the name every line is tagged with */
  app: string
  /** the rotated files; false: none */
  logs: ResolvedLogsOptions | false
  /** where every line goes besides the file (the primary's stdout) */
  out: Writable & { isTTY?: boolean }
  /** human-readable lines on `out` (default: when it is a terminal) */
  pretty?: boolean
  /** told once per destination that fails (the file, then `out`): the capture goes on without it */
  onError?: (err: Error, where: 'file' | 'out') => void
}

/**
 * The primary's side of the workers' stdout and stderr: split into lines,
 * each tagged with the app and the slot (a JSON line gets `app` and `slot`;
 * any other text is wrapped as `{ level, time, app, slot, pid, stream, msg }`),
 * written to the app's rotated file and to the primary's stdout. A worker
 * whose lines the file cannot take yet is paused, never dropped: it then
 * blocks on its own full pipe.
 */
export class LogCapture {
  private file: RotatingFileStream | undefined
  private out: (Writable & { isTTY?: boolean }) | undefined
  private readonly pretty: boolean
  private readonly sources = new Map<Readable, Promise<void>>()
  private readonly paused = new Set<Readable>()
  private readonly waiting = new Set<Writable>()
  private readonly failed = new Set<'file' | 'out'>()

  constructor (private readonly opts: LogCaptureOptions) {
    this.out = opts.out
    this.pretty = opts.pretty ?? opts.out.isTTY === true
    // EPIPE (stdout closed by `| head`) must not take the primary down: the file goes on
    opts.out.on('error', (err: Error) => this.fail('out', err))
    if (opts.logs !== false) this.file = this.openFile(opts.logs)
  }

  private openFile (logs: ResolvedLogsOptions): RotatingFileStream | undefined {
    try {
      // the logs say what the app did, and to whom: the owner's only
      mkdirSync(logs.dir, { recursive: true, mode: 0o700 })
    } catch (err) {
      queueMicrotask(() => this.fail('file', err as Error))
      return undefined
    }
    const app = this.opts.app
    // classical (logrotate) mode: called with null for the current file, with n for the n-th newest rotated one
    const file = createStream((n) => n === null || typeof n !== 'number' ? `${app}.log` : `${app}.log.${n}`, {
      path: logs.dir,
      size: `${logs.maxSize}B`,
      rotate: logs.maxFiles,
      mode: 0o600
    })
    file.on('error', (err) => this.fail('file', err))
    return file
  }

  private fail (where: 'file' | 'out', err: Error): void {
    // said once: a stream that failed may emit more errors after
    if (this.failed.has(where)) return
    this.failed.add(where)
    if (where === 'file') {
      this.file?.destroy()
      this.file = undefined
    } else {
      this.out = undefined
    }
    this.opts.onError?.(err, where)
    // whoever waited on it waits no more
    this.waiting.clear()
    this.resume()
  }

  /** A worker's stdout or stderr, until it ends. */
  attach (stream: Readable | null | undefined, slot: number, pid: number | undefined, name: 'stdout' | 'stderr'): void {
    if (stream === null || stream === undefined) return
    stream.setEncoding('utf8') // a character cut between two chunks is joined again; invalid bytes become U+FFFD
    let partial = ''
    // inside a line already cut at MAX_LINE: drop until its newline
    let dropping = false
    // one write per chunk read, not per line: a chunk holds hundreds of lines under load
    let batch: string[] = []
    const emit = (text: string, truncated = false): void => {
      const line = this.line(text, slot, pid, name, truncated)
      if (line !== undefined) batch.push(line)
    }
    const flush = (): void => {
      if (batch.length === 0) return
      const lines = batch
      batch = []
      this.push(lines, stream)
    }
    stream.on('data', (chunk: string) => {
      let start = 0
      let nl: number
      while ((nl = chunk.indexOf('\n', start)) !== -1) {
        const piece = chunk.slice(start, nl)
        start = nl + 1
        if (dropping) {
          dropping = false
          continue
        }
        const text = partial + piece
        partial = ''
        if (text.length > MAX_LINE) emit(text.slice(0, MAX_LINE), true)
        else emit(text)
      }
      if (!dropping) {
        partial += chunk.slice(start)
        if (partial.length > MAX_LINE) {
          emit(partial.slice(0, MAX_LINE), true)
          partial = ''
          dropping = true
        }
      }
      flush()
    })
    const ended = new Promise<void>((resolve) => {
      const done = (): void => {
        if (partial !== '' && !dropping) emit(partial)
        partial = ''
        flush()
        this.paused.delete(stream)
        this.sources.delete(stream)
        resolve()
      }
      stream.once('end', done)
      stream.once('close', done)
      // a pipe error ends the stream too; it is not the primary's to die of
      stream.on('error', () => {})
    })
    this.sources.set(stream, ended)
  }

  private line (raw: string, slot: number, pid: number | undefined, stream: 'stdout' | 'stderr', truncated: boolean): string | undefined {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (text.trim() === '') return undefined
    let line: string | undefined
    if (!truncated) line = tagJson(text, this.opts.app, slot)
    line ??= JSON.stringify({
      level: stream === 'stderr' ? ERROR : INFO,
      time: Date.now(),
      app: this.opts.app,
      slot,
      pid,
      stream,
      ...(truncated ? { truncated: true } : {}),
      msg: text
    })
    return line
  }

  /** A line of the primary's own logger (pino calls this as its destination). */
  write (chunk: string): boolean {
    this.push(chunk.split('\n').filter((line) => line !== ''))
    return true
  }

  private push (lines: string[], source?: Readable): void {
    if (lines.length === 0) return
    const text = `${lines.join('\n')}\n`
    const out = this.out
    if (out !== undefined && !out.write(this.pretty ? lines.map(prettyLine).join('') : text)) this.hold(out, source)
    const file = this.file
    if (file !== undefined && !file.write(text)) this.hold(file, source)
  }

  /** Backpressure: the worker waits until what it wrote is out. */
  private hold (target: Writable, source: Readable | undefined): void {
    if (source !== undefined && !this.paused.has(source)) {
      this.paused.add(source)
      source.pause()
    }
    if (this.waiting.has(target)) return
    this.waiting.add(target)
    target.once('drain', () => {
      this.waiting.delete(target)
      if (this.waiting.size === 0) this.resume()
    })
  }

  private resume (): void {
    for (const source of this.paused) source.resume()
    this.paused.clear()
  }

  /**
   * Reads what the workers wrote before they exited (their pipes end after
   * the exit event), then flushes the file. Bounded: a pipe held open by a
   * grandchild does not keep the primary from exiting.
   */
  async close (timeout = 2000): Promise<void> {
    this.resume()
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeout) })
    await Promise.race([Promise.all(this.sources.values()), bound])
    const file = this.file
    this.file = undefined
    if (file !== undefined) {
      await Promise.race([new Promise<void>((resolve) => file.end(() => resolve())), bound])
    }
    clearTimeout(timer)
  }
}

/** A JSON object line with `app` and `slot` added where missing, without re-serialising it; undefined when it is no JSON object. */
export function tagJson (text: string, app: string, slot: number): string | undefined {
  const start = text.indexOf('{')
  if (start === -1 || text.slice(0, start).trim() !== '' || !text.trimEnd().endsWith('}')) return undefined
  let parsed: unknown
  try { parsed = JSON.parse(text) } catch { return undefined }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined
  const fields: string[] = []
  if (!Object.hasOwn(parsed, 'app')) fields.push(`"app":${JSON.stringify(app)}`)
  if (!Object.hasOwn(parsed, 'slot')) fields.push(`"slot":${slot}`)
  const body = text.trim()
  if (fields.length === 0) return body
  const rest = body.slice(1)
  return `{${fields.join(',')}${Object.keys(parsed).length === 0 ? '' : ','}${rest}`
}
