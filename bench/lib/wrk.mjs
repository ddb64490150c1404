// wrk (Debian's package, installed on first use): a C load generator light
// enough to open a new connection per request without becoming the bottleneck.
import { execFileSync, execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

export function ensureWrk () {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
  } catch (err) {
    // wrk --version exits 1 after printing: only a missing binary is ENOENT
    if (err.code !== 'ENOENT') return
    execFileSync('bash', ['-c', 'export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)'], { stdio: 'inherit' })
  }
}

/**
 * Runs wrk against `url`; `newConnections` sends `Connection: close`, so
 * every request opens a connection (what nginx does without upstream
 * keep-alive, and what short-lived clients do).
 */
export async function wrk (url, { seconds, connections = 50, newConnections = false, script } = {}) {
  // `script`: a wrk Lua script (a path) that shapes each request
  const args = ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, '--latency', ...(newConnections ? ['-H', 'Connection: close'] : []), ...(script ? ['-s', script] : []), url]
  const { stdout } = await run('wrk', args, { timeout: (seconds + 30) * 1000 })
  const num = (re) => { const m = re.exec(stdout); return m === null ? 0 : Number(m[1]) }
  const ms = (re) => {
    const m = re.exec(stdout)
    if (m === null) return null
    const factor = { us: 0.001, ms: 1, s: 1000 }[m[2]]
    return Math.round(Number(m[1]) * factor * 100) / 100
  }
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout)
  const socketErrors = socket === null ? 0 : socket.slice(1).map(Number)
  return {
    rps: Math.round(num(/Requests\/sec:\s+([\d.]+)/)),
    requests: num(/(\d+) requests in/),
    p99: ms(/99%\s+([\d.]+)(us|ms|s)/),
    // a read error on a Connection: close run is the server closing after the answer, as asked: not a failure
    errors: socketErrors === 0 ? 0 : socketErrors[0] + (newConnections ? 0 : socketErrors[1]) + socketErrors[2] + socketErrors[3],
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/)
  }
}
