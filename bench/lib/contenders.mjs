// Starting the hello-world contenders shared by the cluster-boot and
// scheduling suites: a Node script with WORKERS workers, or PM2 cluster mode.
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { DURATION } from './load.mjs'
import { freePort, sleep, startNode, waitForHttp } from './process.mjs'
import { wrk } from './wrk.mjs'

const APPS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'apps')
export const app = (name) => path.join(APPS, name)
export const WORKERS = Number(process.env.WORKERS ?? 2)

/** Runs `fn(port, proc)` against `node file` on a free port (WORKERS workers unless `env` says), then stops it. */
export async function withNode (file, env, fn) {
  const port = await freePort()
  const proc = startNode(file, { WORKERS: String(WORKERS), ...env, PORT: String(port) })
  try {
    await waitForHttp(port)
    await sleep(300)
    return await fn(port, proc)
  } finally {
    await proc.stop()
  }
}

/** PM2 with a throwaway PM2_HOME; `withPm2(fn)` runs `fn(port, name)` against apps/single.mjs in cluster mode. */
export async function pm2Contender () {
  process.env.PM2_HOME = mkdtempSync(path.join(os.tmpdir(), 'corral-pm2-'))
  const { default: pm2 } = await import('pm2')
  const call = (method, ...args) => new Promise((resolve, reject) => pm2[method](...args, (err, out) => err ? reject(err) : resolve(out)))
  await call('connect')
  return {
    call,
    async withPm2 (fn) {
      const port = await freePort()
      const name = `corral-bench-${port}`
      await call('start', { script: app('single.mjs'), name, instances: WORKERS, exec_mode: 'cluster', env: { PORT: String(port) }, autorestart: true })
      try {
        await waitForHttp(port)
        await sleep(500)
        return await fn(port, name)
      } finally {
        await call('delete', name).catch(() => {})
      }
    },
    async close () {
      // killDaemon's callback does not always come: bounded, then exit (PM2's client keeps handles open)
      await Promise.race([call('killDaemon').catch(() => {}), sleep(5000)])
      pm2.disconnect()
      rmSync(process.env.PM2_HOME, { recursive: true, force: true })
    }
  }
}

async function reloadsDone (adminPort) {
  return (await (await fetch(`http://127.0.0.1:${adminPort}/supervisor`)).json()).reloads
}

/** cluster-boot with `scheduling` under new-connection load (wrk) while SIGHUP reloads it twice; counts every failure. */
export async function reloadsUnderNewConnections (scheduling) {
  const adminPort = await freePort()
  return withNode(app('corral.mjs'), { SCHEDULING: scheduling, ADMIN_PORT: String(adminPort) }, async (port, proc) => {
    const loading = wrk(`http://127.0.0.1:${port}/`, { seconds: Math.max(DURATION, 8), connections: 20, newConnections: true })
    await sleep(1000)
    for (let i = 0; i < 2; i++) {
      const before = await reloadsDone(adminPort)
      proc.child.kill('SIGHUP')
      while (await reloadsDone(adminPort) === before) await sleep(50)
      await sleep(300)
    }
    const r = await loading
    return { requests: r.requests, failed: r.errors + r.non2xx }
  })
}
