import { realpathSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { resolveOptions } from '../options.js'
import { findConfig } from './config.js'
import { apps, base, overrides, type StartCommand } from './start.js'

/** Seconds systemd waits on top of `killTimeout` for the primary to close its admin server and exit. */
export const STOP_MARGIN_SECONDS = 5

const FLAGS: Array<[keyof StartCommand['flags'], string]> = [
  ['instances', '--instances'], ['port', '--port'], ['host', '--host'], ['maxMemory', '--max-memory'],
  ['killTimeout', '--kill-timeout'], ['readyTimeout', '--ready-timeout'], ['maxRestarts', '--max-restarts'],
  ['restartDelay', '--restart-delay'], ['scheduling', '--scheduling'], ['adminPort', '--admin-port']
]

/** One ExecStart word: systemd expands % and $, and splits on spaces unless quoted. */
export function systemdWord (word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$')
  return /[\s"'\\;]/.test(word) ? `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : escaped
}

/** The `corral start` words that run the same app(s) from any directory: every path absolute, a found config named. */
export function startWords (cmd: StartCommand, config: string | undefined): string[] {
  const words = ['start']
  if (cmd.file !== undefined) words.push(cmd.file)
  else if (config !== undefined) words.push('-c', config)
  if (cmd.config !== undefined && cmd.file !== undefined) words.push('-c', cmd.config)
  if (cmd.profile !== undefined) words.push('--env', cmd.profile)
  if (cmd.name !== undefined) words.push('--name', cmd.name)
  if (cmd.only !== undefined) words.push('--only', cmd.only)
  for (const [key, flag] of FLAGS) {
    const value = cmd.flags[key]
    if (value !== undefined) words.push(flag, value)
  }
  return words
}

/**
 * `corral startup systemd`: a unit that runs what `corral start` with the
 * same arguments would, from this directory, as this user. Checked like a
 * start (the config is read, the options validated) so a unit is never
 * printed for an app that cannot start.
 */
export async function systemdUnit (cmd: StartCommand, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const list = await apps(cmd)
  const flags = overrides(cmd.flags)
  const killTimeout = Math.max(...list.map((app) => resolveOptions({ ...app.options, ...flags, app: () => { throw new Error('not called') } }, env).killTimeout))
  const config = cmd.config ?? (cmd.file === undefined ? findConfig(base()) : undefined)
  const name = list.length === 1 ? list[0].name : path.basename(config ?? 'corral').replace(/\.config\.[cm]?js(on)?$/, '')
  const corral = realpathSync(process.argv[1])
  const execStart = [process.execPath, ...process.execArgv, corral, ...startWords(cmd, config)].map(systemdWord).join(' ')
  const user = os.userInfo()
  const nodeEnv = env.NODE_ENV !== undefined && env.NODE_ENV !== '' ? env.NODE_ENV : 'production'
  return `# corral startup systemd: save as /etc/systemd/system/corral-${name}.service, then
#   systemctl daemon-reload && systemctl enable --now corral-${name}
# systemctl reload corral-${name} is a rolling reload; systemctl stop drains every worker.
[Unit]
Description=Corral: ${name} (${list.map((a) => path.relative(base(), a.entry) || a.entry).join(', ')})
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
${user.uid === 0 ? '' : `User=${user.username}\n`}WorkingDirectory=${base()}
Environment=NODE_ENV=${systemdWord(nodeEnv)}
# an admin token, if any, belongs in an owner-only file: EnvironmentFile=/etc/corral/${name}.env with CORRAL_ADMIN_TOKEN=...
ExecStart=${execStart}
# SIGHUP to the primary: a rolling reload, one worker at a time, zero downtime
ExecReload=/bin/kill -HUP $MAINPID
# mixed: SIGTERM goes to the primary alone, which drains its workers (killTimeout ${killTimeout} ms each, in parallel);
# only what is left after TimeoutStopSec gets SIGKILL, workers included, so none outlives the unit.
# (control-group would SIGTERM every worker at once behind the primary's back; process would leave them running)
KillMode=mixed
KillSignal=SIGTERM
TimeoutStopSec=${Math.ceil(killTimeout / 1000) + STOP_MARGIN_SECONDS}
Restart=on-failure
RestartSec=2
SyslogIdentifier=corral-${name}

[Install]
WantedBy=multi-user.target`
}
