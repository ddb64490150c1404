#!/usr/bin/env node
import { ControlError, resolveTargets } from './client.js'
import { describe, list, reload, scale, stop } from './commands.js'
import { monit } from './monit.js'
import { logs } from './logs.js'
import { parseCli, type Command } from './parse.js'
import { start } from './start.js'
import { systemdUnit } from './startup.js'
import { USAGE, VERBS } from './usage.js'

type ControlCommand = Extract<Command, { select: unknown }>

/** What each control verb prints; list and monit show every running app when none is named. */
const CONTROL: Record<ControlCommand['command'], (cmd: ControlCommand) => Promise<string>> = {
  list: (cmd) => list(resolveTargets('list', cmd.select, true), cmd.json),
  describe: (cmd) => describe(resolveTargets('describe', cmd.select, false)[0], cmd.json),
  reload: (cmd) => reload(resolveTargets('reload', cmd.select, false)[0]),
  stop: (cmd) => stop(resolveTargets('stop', cmd.select, false)[0]),
  scale: (cmd) => scale(resolveTargets('scale', cmd.select, false)[0], cmd.count ?? ''),
  monit: (cmd) => monit(() => resolveTargets('monit', cmd.select, true), cmd.interval)
}

async function main (): Promise<void> {
  let cmd: Command
  try {
    cmd = parseCli(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`corral: ${(err as Error).message}\n\n${USAGE}\n`)
    process.exit(2)
  }
  if (cmd.command === 'help') {
    process.stdout.write(`${USAGE}\n`)
    process.exit(cmd.exitCode)
  }
  if (cmd.command === 'unknown') {
    process.stderr.write(`corral: unknown command ${cmd.name} (commands: ${VERBS}; corral --help)\n`)
    process.exit(2)
  }
  try {
    if (cmd.command === 'start') return await start(cmd)
    if (cmd.command === 'logs') {
      const done = new AbortController()
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => done.abort())
      await logs(cmd, process.stdout, done.signal)
      process.exit(0)
    }
    const output = cmd.command === 'startup' ? await systemdUnit(cmd.start) : await CONTROL[cmd.command](cmd)
    if (output !== '') process.stdout.write(`${output}\n`)
    process.exit(0)
  } catch (err) {
    if (err instanceof ControlError && err.body !== undefined) process.stdout.write(`${err.body}\n`)
    process.stderr.write(`corral: ${(err as Error).message}\n`)
    process.exit(1)
  }
}

main()
