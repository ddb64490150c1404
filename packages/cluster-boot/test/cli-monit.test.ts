// corral monit in a real terminal: a tmux pane of a tmux server of the test's own.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'tap'
import { waitFor } from '@corral/test-helpers'
import { cli, corral, startApp } from './fixtures/cli-driver.js'

const tmux = spawnSync('tmux', ['-V']).status === 0

test('corral monit shows every worker live in a terminal and quits on q', { skip: tmux ? false : 'tmux is not installed (apt-get install tmux)' }, async (t) => {
  const home = t.testdir()
  const env = { CORRAL_HOME: home, ADMIN_PORT: '', CORRAL_ADMIN_TOKEN: '' }
  const { app } = await startApp(t, home, 'watched', ['-i', '2'], env)
  // a tmux server of this test's own (-L): the user's sessions are never touched
  const socket = `corral-test-${process.pid}`
  const session = `corral-monit-${process.pid}`
  const exitFile = path.join(home, 'monit.exit')
  const run = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' })
  const command = `CORRAL_HOME='${home}' ADMIN_PORT= '${process.execPath}' '${cli}' monit --interval 200; echo $? > '${exitFile}'`
  t.equal(run('new-session', '-d', '-s', session, '-x', '160', '-y', '40', command).status, 0, 'tmux session started')
  t.teardown(() => { run('kill-session', '-t', session) })

  const screen = await waitFor(() => {
    const text = String(run('capture-pane', '-p', '-t', session).stdout)
    const rows = text.split('\n').filter((l) => /^watched\s+\d\s+\d+\s+ready\s/.test(l))
    // the stats columns filled in: every worker reported
    return rows.length === 2 && rows.every((r) => !/\s-\s/.test(r)) && text
  }, { timeout: 20_000, message: 'monit to show both workers with their stats' })
  t.match(screen, /^corral monit: 1 app, 2 workers, every 0\.2s; q quits/m)
  t.match(screen, /APP\s+SLOT\s+PID\s+STATE\s+UPTIME\s+RESTARTS\s+CPU\s+MEMORY\s+REQ\/S\s+LOOP/)
  t.match(screen, /^watched\s+0\s+\d+\s+ready\s+\S+\s+0\s+[\d.]+%\s+[\d.]+ MB\s+[\d.]+\s+[\d.]+ ms/m)
  t.match(screen, /^total: CPU [\d.]+%/m)

  // a third worker appears on the next refresh
  t.equal((await corral(['scale', 'watched', '3'], env)).code, 0)
  await waitFor(() => /^watched\s+2\s+\d+\s+ready/m.test(String(run('capture-pane', '-p', '-t', session).stdout)), { timeout: 10_000, message: 'slot 2 on screen' })

  run('send-keys', '-t', session, 'q')
  await waitFor(() => existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim() !== '', { timeout: 10_000, message: 'monit to quit on q' })
  t.equal(readFileSync(exitFile, 'utf8').trim(), '0', 'monit exits 0 on q')
  t.notMatch(String(run('capture-pane', '-p', '-t', session).stdout), /corral monit:/, 'and gives the shell its screen back')
  await corral(['stop', 'watched'], env)
  t.equal((await app.exited).code, 0)
})
