// A "host": one cluster-boot primary of the example app, with its workers,
// bound to its own loopback address (127.0.0.x) as a separate machine would
// be, in a process group of its own so that it can be killed whole (and is,
// by @corral/test-helpers' killGroupOnExit, if the test process ends first).
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, killGroupOnExit, waitFor } from '@corral/test-helpers'

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'app', 'dist', 'server.js')

export async function startHost (address, port, env = {}) {
  const adminPort = await freePort()
  const proc = spawn(process.execPath, [SERVER], {
    env: { ...process.env, HOST: address, PORT: String(port), ADMIN_PORT: String(adminPort), WORKERS: '2', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true
  })
  const lines = []
  let buffer = ''
  let stderr = ''
  proc.stdout.setEncoding('utf8').on('data', (chunk) => {
    buffer += chunk
    let nl
    while ((nl = buffer.indexOf('\n')) !== -1) {
      const text = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      try { lines.push(JSON.parse(text)) } catch { lines.push({ text }) }
    }
  })
  proc.stderr.setEncoding('utf8').on('data', (c) => { stderr = (stderr + c).slice(-4000) })
  const forget = killGroupOnExit(proc.pid)
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })))
  const waitForLine = (pred, timeout = 30_000) => waitFor(() => {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`host ${address} exited; stderr: ${stderr}`)
    return lines.find(pred)
  }, { timeout, message: `a log line from host ${address}` })

  const host = {
    address,
    port,
    adminPort,
    pid: proc.pid,
    lines,
    exited,
    get running () { return proc.exitCode === null && proc.signalCode === null },
    waitForLine,
    /** the primary and every worker, at once (a machine that dies) */
    killAll () { try { process.kill(-proc.pid, 'SIGKILL') } catch {} },
    /** SIGHUP: a rolling reload; resolves when it is done */
    async reload () {
      const before = lines.filter((l) => l.msg === 'rolling reload done').length
      proc.kill('SIGHUP')
      await waitFor(() => {
        const done = lines.filter((l) => l.msg === 'rolling reload done').length > before
        if (!done && lines.some((l) => l.msg?.startsWith('rolling reload stopped'))) throw new Error(`reload failed on ${address}`)
        return done
      }, { timeout: 60_000, message: `rolling reload on ${address}` })
    },
    /** SIGTERM: a graceful stop; resolves with the exit */
    async drain () {
      proc.kill('SIGTERM')
      return exited
    },
    async close () {
      if (host.running) {
        proc.kill('SIGTERM')
        const timer = setTimeout(() => host.killAll(), 15_000)
        await exited
        clearTimeout(timer)
      }
      // workers left behind by a SIGKILLed primary drain on 'disconnect'; make sure
      host.killAll()
      forget()
    }
  }
  await waitForLine((l) => l.msg === 'all workers ready')
  return host
}

/** `count` hosts on 127.0.0.2, .3, ... all on one port, as machines behind a balancer. */
export async function startHosts (count, env = {}) {
  const port = await freePort()
  const hosts = []
  try {
    for (let i = 0; i < count; i++) hosts.push(await startHost(`127.0.0.${i + 2}`, port, env))
  } catch (err) {
    await Promise.all(hosts.map((h) => h.close()))
    throw err
  }
  return hosts
}
