// corral startup systemd: the unit it prints, checked key by key and by systemd-analyze.
import { spawnSync } from 'node:child_process'
import { realpathSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'tap'
import { cli, corral } from './fixtures/cli-driver.js'
import { fixture } from './fixtures/cluster.js'

test('corral startup systemd prints a unit for the app: ExecStart, reload, kill mode, stop timeout', async (t) => {
  const result = await corral(['startup', 'systemd', fixture('cli-app.mjs'), '-i', '4', '--kill-timeout', '12000', '--name', 'api'], { NODE_ENV: '' })
  t.equal(result.code, 0, result.stderr)
  const unit = result.stdout
  const keys = (section: string): Map<string, string> => {
    const body = unit.split(/^\[/m).find((s) => s.startsWith(`${section}]`)) ?? ''
    return new Map(body.split('\n').filter((l) => /^\w+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  }
  const service = keys('Service')
  t.equal(service.get('ExecStart'), `${process.execPath} ${realpathSync(cli)} start ${fixture('cli-app.mjs')} --name api --instances 4 --kill-timeout 12000`, 'absolute node and corral, the same arguments')
  t.equal(service.get('WorkingDirectory'), process.cwd())
  t.equal(service.get('ExecReload'), '/bin/kill -HUP $MAINPID', 'reload is the rolling reload')
  t.equal(service.get('KillMode'), 'mixed')
  t.equal(service.get('TimeoutStopSec'), '17', 'killTimeout 12 s + 5 s')
  t.equal(service.get('Restart'), 'on-failure')
  t.equal(service.get('Environment'), 'NODE_ENV=production')
  t.equal(keys('Install').get('WantedBy'), 'multi-user.target')
  t.match(keys('Unit').get('Description'), /^Corral: api /)

  if (spawnSync('systemd-analyze', ['--version']).status !== 0) return
  const dir = t.testdir()
  const file = path.join(dir, 'corral-api.service')
  writeFileSync(file, `${unit}\n`)
  const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', cwd: dir })
  t.equal(verify.status, 0, 'systemd-analyze verify accepts it')
  t.equal(verify.stderr.split('\n').filter((l) => l.includes('corral-api.service')).join('\n'), '', 'without a warning about the unit')
})

test('corral startup systemd refuses an app that cannot start, and an init system it does not know', async (t) => {
  const missing = await corral(['startup', 'systemd', fixture('cli-app.mjs'), '-i', 'lots'])
  t.equal(missing.code, 1, `exits 1: ${missing.stderr}`)
  t.match(missing.stderr, '@corral/cluster-boot: option "workers" must be an integer from 1 to 1024 (got "lots")')
  const other = await corral(['startup', 'upstart'])
  t.equal(other.code, 2, `exits 2: ${other.stderr.split('\n')[0]}`)
  t.match(other.stderr, 'corral startup: say which init system: corral startup systemd [<app or config>] [start options] (got "upstart": only systemd is supported)')
})
