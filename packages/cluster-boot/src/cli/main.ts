#!/usr/bin/env node
import { ControlError } from './client.js'
import { describe, list, reload, stop } from './commands.js'
import { logs } from './logs.js'
import { parseCli, type Command } from './parse.js'
import { start } from './start.js'
import { USAGE } from './usage.js'

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
    process.stderr.write(`corral: unknown command ${cmd.name} (commands: start, list, status, describe, reload, restart, stop; corral --help)\n`)
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
    const run = { list: () => list(cmd.admin, cmd.json), describe: () => describe(cmd.admin, cmd.json), reload: () => reload(cmd.admin), stop: () => stop(cmd.admin) }[cmd.command]
    process.stdout.write(`${await run()}\n`)
    process.exit(0)
  } catch (err) {
    if (err instanceof ControlError && err.body !== undefined) process.stdout.write(`${err.body}\n`)
    process.stderr.write(`corral: ${(err as Error).message}\n`)
    process.exit(1)
  }
}

main()
