// A throwaway Verdaccio on loopback: storage, config and htpasswd in a temp
// folder, @corral/* published and served locally and never proxied, so the
// packages a test installs from it are exactly the ones it published.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { freePort, waitFor } from '@corral/test-helpers'
import { exitedEarly, track } from './process.mjs'

const require = createRequire(import.meta.url)

function config (dir) {
  // JSON is valid YAML: no YAML writer needed
  return JSON.stringify({
    storage: path.join(dir, 'storage'),
    auth: { htpasswd: { file: path.join(dir, 'htpasswd'), max_users: 10 } },
    uplinks: {},
    packages: {
      '@corral/*': { access: '$all', publish: '$authenticated' },
      '**': { access: '$all', publish: '$authenticated' }
    },
    web: { enable: false },
    log: { type: 'file', path: path.join(dir, 'verdaccio.log'), level: 'warn' }
  }, null, 2)
}

/** Starts Verdaccio; resolves to its URL once it answers /-/ping. */
export async function startVerdaccio (dir) {
  mkdirSync(path.join(dir, 'storage'), { recursive: true })
  const configFile = path.join(dir, 'config.yaml')
  writeFileSync(configFile, config(dir))
  const bin = path.join(path.dirname(require.resolve('verdaccio/package.json')), 'bin', 'verdaccio')
  const port = await freePort()
  const url = `http://127.0.0.1:${port}/`
  const out = openSync(path.join(dir, 'stdout.log'), 'a')
  // its own process group, so stopping it reaches anything it started
  const child = track(spawn(process.execPath, [bin, '--config', configFile, '--listen', `127.0.0.1:${port}`], {
    detached: true, stdio: ['ignore', out, out]
  }))
  const early = exitedEarly(child, 'verdaccio')
  await Promise.race([early, waitFor(async () => (await fetch(`${url}-/ping`)).ok, { timeout: 60_000, interval: 200, message: 'verdaccio to answer' })])
    .catch((err) => { throw new Error(`${err.message}\n${readFileSync(path.join(dir, 'stdout.log'), 'utf8').slice(-2000)}`) })
  return url
}

/** Creates a user with a random password and returns its token. */
export async function createUser (url) {
  const name = `corral-${randomBytes(4).toString('hex')}`
  const res = await fetch(`${url}-/user/org.couchdb.user:${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: randomBytes(16).toString('hex') })
  })
  const body = await res.json()
  if (!res.ok || typeof body.token !== 'string') throw new Error(`verdaccio: creating a user answered ${res.status} ${JSON.stringify(body)}`)
  return body.token
}
