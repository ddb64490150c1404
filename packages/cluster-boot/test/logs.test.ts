import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test, type Test } from 'tap'
import { freePort, request, spawnNode, waitFor } from '@corral/test-helpers'
import { fixture } from './fixtures/cluster.js'

const cli = new URL('../bin/corral.js', import.meta.url).pathname
const MAX_LINE = 64 * 1024

type Line = Record<string, unknown>

function tmpDir (t: Test): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-logs-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function fileLines (file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')
  } catch {
    return []
  }
}

async function startApp (t: Test, opts: Record<string, unknown>, name = 'shop', env: Record<string, string> = {}) {
  const port = await freePort()
  const proc = spawnNode(fixture('logging-app.mjs'), { env: { PORT: String(port), CORRAL_NAME: name, FIXTURE_OPTS: JSON.stringify(opts), ...env } })
  t.teardown(() => proc.stop('SIGTERM'))
  await proc.waitForLine((l: Line) => l.msg === 'all workers ready', 20_000)
  const get = async (p: string) => (await request(`http://127.0.0.1:${port}${p}`)).body
  return { proc, port, get }
}

test('each worker line reaches the primary\'s stdout and the app\'s file, tagged with the app and the slot', async (t) => {
  const dir = tmpDir(t)
  const { proc, get } = await startApp(t, { logs: { dir } })
  const { slot } = await get('/say?text=hello%20plain%20text')
  const plain = await proc.waitForLine((l: Line) => l.msg === 'hello plain text')
  t.match(plain, { app: 'shop', slot, level: 30, stream: 'stdout' }, 'a text line is wrapped with its app and slot')
  t.type(plain.time, 'number')
  const request = await proc.waitForLine((l: Line) => l.msg === 'incoming request' && l.req !== undefined)
  t.match(request, { app: 'shop', slot: Number }, 'a JSON line gets app and slot')
  t.equal(Object.keys(request).filter((k) => k === 'slot').length, 1)

  const file = path.join(dir, 'shop.log')
  await waitFor(() => fileLines(file).some((l) => l.includes('hello plain text')), { message: 'the line in the file' })
  const lines = fileLines(file).map((l) => JSON.parse(l) as Line)
  t.match(lines.find((l) => l.msg === 'hello plain text'), { app: 'shop', slot })
  t.match(lines[0], { app: 'shop', role: 'primary', msg: /^starting shop: app on http:\/\/127\.0\.0\.1:\d+, no admin server, primary pid \d+, 2 workers, logs in / }, 'the primary\'s own lines go to the file too, the start line first')
  t.equal(statSync(file).mode & 0o777, 0o600, 'the file is the owner\'s only')
})

test('garbage, a line in pieces and a line above the cap do not crash the primary', async (t) => {
  const dir = tmpDir(t)
  const { proc, get } = await startApp(t, { logs: { dir }, workers: 1 })
  await get('/garbage')
  await proc.waitForLine((l: Line) => l.msg === 'after the garbage')
  const long = proc.lines.find((l: Line) => typeof l.msg === 'string' && l.msg.startsWith('yyy'))
  t.match(long, { truncated: true, slot: 0 }, 'the long line is cut and marked')
  t.equal(long?.msg.length, MAX_LINE)
  t.ok(proc.lines.some((l: Line) => l.msg === '{"broken": '), 'broken JSON is wrapped as text')
  t.ok(proc.lines.some((l: Line) => l.msg === 'half a line' && l.stream === 'stderr' && l.level === 50), 'a line written in two pieces is one line')
  t.ok(proc.lines.some((l: Line) => typeof l.msg === 'string' && l.msg.includes('\ufffd')), 'invalid bytes become U+FFFD')
  t.match(await get('/'), { slot: 0, pid: Number }, 'the app still serves')
  t.equal(proc.lines.filter((l: Line) => l.text !== undefined).length, 0, 'every line on stdout is JSON')
  proc.child.kill('SIGTERM')
  t.equal((await proc.exited).code, 0, 'and stops cleanly')
  for (const line of fileLines(path.join(dir, 'shop.log'))) JSON.parse(line)
})

test('no line is lost under load, in order, in the file and on stdout', async (t) => {
  const dir = tmpDir(t)
  const { proc, get } = await startApp(t, { logs: { dir }, workers: 1 })
  const n = 20_000
  await get(`/spam?n=${n}&size=100`)
  proc.child.kill('SIGTERM')
  t.equal((await proc.exited).code, 0)
  const seqs = (lines: Line[]): number[] => lines.filter((l) => l.spam === true).map((l) => l.seq as number)
  const expected = Array.from({ length: n }, (_, i) => i)
  t.same(seqs(proc.lines), expected, 'stdout has every line once, in order')
  t.same(seqs(fileLines(path.join(dir, 'shop.log')).map((l) => JSON.parse(l) as Line)), expected, 'so does the file')
})

test('the file rotates at maxSize and keeps maxFiles rotated files', async (t) => {
  const dir = tmpDir(t)
  const maxSize = 4096
  const { get } = await startApp(t, { logs: { dir, maxSize, maxFiles: 2 }, workers: 1 })
  await get('/spam?n=400&size=100')
  await waitFor(() => existsSync(path.join(dir, 'shop.log.2')), { message: 'two rotations' })
  await get('/spam?n=400&size=100')
  // the primary goes on writing and rotating after the request answered, and a rotation renames the files one by one:
  // read them once names and sizes stopped changing between two looks
  let seen = ''
  await waitFor(() => {
    let now: string
    try {
      now = readdirSync(dir).sort().map((name) => `${name}:${statSync(path.join(dir, name)).size}`).join(',')
    } catch {
      return false
    }
    const settled = now === seen && now.split(',').length === 3
    seen = now
    return settled
  }, { interval: 300, message: 'the rotations to settle' })
  t.same(readdirSync(dir).sort(), ['shop.log', 'shop.log.1', 'shop.log.2'], 'the current file and maxFiles rotated ones, no more')
  for (const name of ['shop.log.1', 'shop.log.2']) {
    const size = statSync(path.join(dir, name)).size
    // lines are written as they were read, a pipe's read (64 KiB at most) at a time: a file ends within one of maxSize
    t.ok(size >= maxSize && size < maxSize + 64 * 1024, `${name} was rotated once past maxSize (${size} bytes)`)
    for (const line of fileLines(path.join(dir, name))) JSON.parse(line)
  }
})

test('a bad logs option fails naming the key', async (t) => {
  for (const [logs, key] of [[{ maxSize: 'big' }, 'logs.maxSize'], [{ maxFiles: 0 }, 'logs.maxFiles'], [{ dir: 3 }, 'logs.dir'], [{ maxsize: 1 }, 'logs.maxsize'], ['yes', 'logs']] as const) {
    const port = await freePort()
    const proc = spawnNode(fixture('logging-app.mjs'), { env: { PORT: String(port), FIXTURE_OPTS: JSON.stringify({ logs }) } })
    t.teardown(() => proc.stop('SIGKILL'))
    const { code } = await proc.exited
    t.not(code, 0)
    t.match(proc.stderr, `@corral/cluster-boot: option "${key}" must be `)
  }
})

test('corral logs prints the last lines, follows new ones, and --slot filters', async (t) => {
  const dir = tmpDir(t)
  // no request lines: the file ends with what the test says, and stays so
  // rr: the primary spreads connections, so slot 1 answers too
  const { get } = await startApp(t, { logs: { dir }, scheduling: 'rr' }, 'shop', { FIXTURE_LOG_LEVEL: 'warn' })
  for (let i = 0; i < 4; i++) await get(`/say?text=before-${i}`)
  await waitFor(() => fileLines(path.join(dir, 'shop.log')).some((l) => l.includes('before-3')), { message: 'the lines in the file' })

  const tail = spawnNode(cli, { args: ['logs', 'shop', '--lines', '3', '--dir', dir] })
  t.teardown(() => tail.stop('SIGTERM'))
  const all = fileLines(path.join(dir, 'shop.log'))
  await waitFor(() => tail.lines.length >= 3, { message: 'the last lines' })
  t.same(tail.lines.slice(0, 3), all.slice(-3).map((l) => JSON.parse(l)), 'the last 3 lines, as written (not a TTY: JSON)')
  t.same(tail.lines.slice(0, 3).map((l: Line) => l.msg), ['before-1', 'before-2', 'before-3'])

  const slot1 = spawnNode(cli, { args: ['logs', 'shop', '--slot', '1', '--dir', dir, '--lines', '100'] })
  t.teardown(() => slot1.stop('SIGTERM'))
  await get('/say?text=followed')
  await tail.waitForLine((l: Line) => l.msg === 'followed')
  t.pass('a new line is followed')
  // rr spreads connections: ask until slot 1 said it
  await waitFor(async () => (await get('/say?text=from-a-slot')).slot === 1, { message: 'slot 1 to answer' })
  await slot1.waitForLine((l: Line) => l.msg === 'from-a-slot' && l.slot === 1)
  t.ok(slot1.lines.length > 0 && slot1.lines.every((l: Line) => l.slot === 1), 'only slot 1\'s lines')
  tail.child.kill('SIGTERM')
  t.equal((await tail.exited).code, 0, 'stops on SIGTERM')
})

test('corral logs follows the file across a rotation', async (t) => {
  const dir = tmpDir(t)
  const { get } = await startApp(t, { logs: { dir, maxSize: 16 * 1024, maxFiles: 3 }, workers: 1 })
  const tail = spawnNode(cli, { args: ['logs', 'shop', '--lines', '0', '--dir', dir] })
  t.teardown(() => tail.stop('SIGTERM'))
  // --lines 0: only what comes once it runs; say something until it shows
  await waitFor(async () => {
    await get('/say?text=started')
    return tail.lines.some((l: Line) => l.msg === 'started')
  }, { interval: 300, message: 'corral logs to follow' })
  for (let round = 0; round < 4; round++) {
    await get(`/spam?n=50&size=100&round=${round}`)
    await waitFor(() => tail.lines.filter((l: Line) => l.spam === true).length === 50 * (round + 1), { message: `round ${round} followed` })
  }
  t.ok(existsSync(path.join(dir, 'shop.log.1')), 'the file did rotate')
  const seqs = tail.lines.filter((l: Line) => l.spam === true).map((l: Line) => l.seq)
  t.same(seqs, [0, 1, 2, 3].flatMap(() => Array.from({ length: 50 }, (_, i) => i)), 'every line, once, in order')
})

test('corral logs for an app with no logs exits 1 with one line', async (t) => {
  const dir = tmpDir(t)
  const proc = spawnNode(cli, { args: ['logs', 'nosuch', '--dir', dir] })
  t.equal((await proc.exited).code, 1)
  t.equal(proc.stderr, `corral: no logs for "nosuch" in ${dir}: is an app of that name running (corral start --name nosuch), or are its logs elsewhere (--dir)?\n`)
  const bad = spawnNode(cli, { args: ['logs', 'shop', '--lines', 'many'] })
  t.equal((await bad.exited).code, 2)
  t.match(bad.stderr, 'corral logs: --lines takes a whole number (got "many")')
})

test('on a terminal the primary prints pretty lines, and so does corral logs', { skip: spawnSync('script', ['--version']).status !== 0 && 'script(1) is not installed' }, async (t) => {
  const dir = tmpDir(t)
  const port = await freePort()
  // script(1) gives the primary a pseudo-terminal as stdout
  const run = (command: string, env: Record<string, string>) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c })
    t.teardown(() => { try { process.kill(-(child.pid as number), 'SIGKILL') } catch {} })
    return { child, out: () => out }
  }
  const app = run(`${process.execPath} ${fixture('logging-app.mjs')}`, { PORT: String(port), CORRAL_NAME: 'shop', FIXTURE_OPTS: JSON.stringify({ logs: { dir }, workers: 1 }), NO_COLOR: '1' })
  await waitFor(() => app.out().includes('all workers ready'), { timeout: 20_000, message: 'the app to start' })
  await request(`http://127.0.0.1:${port}/say?text=pretty%20please`)
  await waitFor(() => app.out().includes('shop/0 pretty please'), { message: 'the worker line, pretty' })
  t.match(app.out(), /\[\d\d:\d\d:\d\d\.\d{3}\] INFO( \(\d+\))?: starting shop: app on /, 'the primary\'s own lines are pretty too')
  t.notMatch(app.out(), '{"level"', 'no JSON on the terminal')
  t.match(readFileSync(path.join(dir, 'shop.log'), 'utf8'), '"msg":"pretty please"', 'the file keeps JSON')

  const tail = run(`${process.execPath} ${cli} logs shop --lines 5 --dir ${dir}`, { NO_COLOR: '1' })
  await waitFor(() => tail.out().includes('shop/0 pretty please'), { message: 'corral logs, pretty' })
  const json = run(`${process.execPath} ${cli} logs shop --lines 5 --json --dir ${dir}`, { NO_COLOR: '1' })
  await waitFor(() => json.out().includes('"msg":"pretty please"'), { message: 'corral logs --json' })
  t.pass('corral logs is pretty on a terminal, JSON with --json')
})

test('an unwritable log directory or a closed stdout is said once, and the other destination goes on', async (t) => {
  const dir = tmpDir(t)
  const notADir = path.join(dir, 'file')
  writeFileSync(notADir, '')
  const { proc, get } = await startApp(t, { logs: { dir: path.join(notADir, 'logs') }, workers: 1 })
  await get('/say?text=still%20here')
  await proc.waitForLine((l: Line) => l.msg === 'still here')
  t.equal(proc.lines.filter((l: Line) => l.msg === 'cannot write the log files: logging to stdout only').length, 1, 'the file failure, once')

  // stdout closed under the primary, like `corral start app.js | head -1`
  const closed = await startApp(t, { logs: { dir }, workers: 1 }, 'closed')
  closed.proc.child.stdout.destroy()
  for (let i = 0; i < 50; i++) await closed.get(`/say?text=after-close-${i}`)
  await waitFor(() => fileLines(path.join(dir, 'closed.log')).some((l) => l.includes('after-close-49')), { message: 'the lines in the file' })
  t.ok(fileLines(path.join(dir, 'closed.log')).some((l) => l.includes('stdout is closed: logging to the files only')), 'said in the file')
  t.match(await closed.get('/'), { slot: 0 }, 'the app still serves')
})
