// Starting and stopping the servers under test.
import { spawn } from 'node:child_process'
import http from 'node:http'
import { sleep } from '@corral/test-helpers'

// one freePort and one sleep for the tests and the benchmarks
export { freePort, sleep } from '@corral/test-helpers'

function ping (port, path) {
  return new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => { res.resume(); resolve(res.statusCode === 200) })
      .on('error', () => resolve(false))
  })
}

/** Resolves once GET path answers 200 on the port. */
export async function waitForHttp (port, path = '/', timeout = 20_000) {
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    if (await ping(port, path)) return
    await sleep(100)
  }
  throw new Error(`nothing answered on 127.0.0.1:${port}${path} within ${timeout} ms`)
}

/** Spawns `node file` with env (`node`: another Node binary); `stop()` sends SIGTERM and waits for the exit. */
export function startNode (file, env = {}, { cwd, node = process.execPath } = {}) {
  const child = spawn(node, [file], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return {
    child,
    async stop () {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
    }
  }
}
