// Runs the shipped examples/nginx/nginx.conf in front of the test's hosts:
// the same file, with only the upstream servers and the listen port swapped.
import { spawn, execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, killGroupOnExit, waitFor } from '@corral/test-helpers'

export const SHIPPED_CONF = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'nginx', 'nginx.conf')

function ensureNginx () {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' })
  } catch {
    execFileSync('bash', ['-c', 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null)'], { stdio: 'inherit' })
  }
}

/** The shipped config with `upstreams` ("host:port" strings) and `port` put in. */
export function renderConf (upstreams, port, dir) {
  const shipped = readFileSync(SHIPPED_CONF, 'utf8')
  const servers = /^( *)server 127\.0\.0\.\d+:3000 (.*);$/gm
  const [first] = shipped.match(servers)
  const [, indent, params] = /^( *)server \S+ (.*);$/.exec(first)
  let placed = false
  const conf = shipped
    .replace(servers, () => {
      if (placed) return ''
      placed = true
      return upstreams.map((u) => `${indent}server ${u} ${params};`).join('\n')
    })
    .replace(/listen 8080;/, `listen 127.0.0.1:${port};`)
    .replace(/http \{/, `http {\n  access_log off;\n  error_log ${dir}/error.log warn;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n  fastcgi_temp_path ${dir}/fastcgi;\n  uwsgi_temp_path ${dir}/uwsgi;\n  scgi_temp_path ${dir}/scgi;`)
  if (!conf.includes(`listen 127.0.0.1:${port};`)) throw new Error('the shipped nginx.conf has no "listen 8080;" line to replace')
  return conf
}

/** Starts nginx on a free loopback port in front of `upstreams`; `close()` stops it. */
export async function startNginx (upstreams) {
  ensureNginx()
  const port = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-nginx-'))
  // nginx's workers drop root: they must reach the temp paths
  chmodSync(dir, 0o755)
  const file = path.join(dir, 'nginx.conf')
  writeFileSync(file, renderConf(upstreams, port, dir))
  const proc = spawn('nginx', ['-p', dir, '-c', file, '-g', `daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;`], { stdio: ['ignore', 'ignore', 'pipe'], detached: true })
  let stderr = ''
  proc.stderr.setEncoding('utf8').on('data', (c) => { stderr += c })
  const exited = new Promise((resolve) => proc.on('exit', resolve))
  const forget = killGroupOnExit(proc.pid)
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error(`nginx exited: ${stderr}`)
    const res = await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => null)
    return res !== null && res.status < 500
  }, { timeout: 15_000, message: `nginx on ${port}` })
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    errorLog: () => { try { return readFileSync(path.join(dir, 'error.log'), 'utf8') } catch { return '' } },
    async close () {
      if (proc.exitCode === null) {
        try { process.kill(-proc.pid, 'SIGTERM') } catch {}
        const timer = setTimeout(() => { try { process.kill(-proc.pid, 'SIGKILL') } catch {} }, 5000)
        await exited
        clearTimeout(timer)
      }
      forget()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
