// Redis topologies of the test's own, on spare loopback ports, from the
// Debian redis-server: a Redis Cluster (3 masters, 3 replicas) and a
// Sentinel set-up (1 master, 2 replicas, 3 sentinels). Every node can be
// SIGKILLed, SIGSTOPped and resumed; `close()` ends them all.
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { freePort, waitFor } from '@corral/test-helpers'

const run = promisify(execFile)
const live = new Set()
process.on('exit', () => { for (const proc of live) { try { proc.kill('SIGKILL') } catch {} } })

async function ports (count) {
  const found = new Set()
  while (found.size < count) found.add(await freePort())
  return [...found]
}

async function redisCommand (port, ...args) {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1000, commandTimeout: 1000, retryStrategy: () => null })
  client.on('error', () => {}) // a node that is not up yet: the caller retries
  try {
    await client.connect()
    return await client.call(...args)
  } finally {
    client.disconnect()
  }
}

class Node {
  constructor (port, args, dir) {
    this.port = port
    this.args = args
    this.dir = dir
    this.proc = undefined
    this.paused = false
  }

  async start () {
    this.proc = spawn('redis-server', this.args, { cwd: this.dir, stdio: 'ignore' })
    live.add(this.proc)
    const proc = this.proc
    proc.once('exit', () => live.delete(proc))
    await waitFor(async () => (await redisCommand(this.port, 'PING')) === 'PONG', { timeout: 10_000, message: `redis on ${this.port}` })
  }

  get running () { return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null }
  /** running and not paused: a node a question can be asked of */
  get answering () { return this.running && !this.paused }
  pause () { this.paused = true; this.proc.kill('SIGSTOP') }
  resume () { this.paused = false; this.proc.kill('SIGCONT') }
  async kill () {
    if (!this.running) return
    const exited = new Promise((resolve) => this.proc.once('exit', resolve))
    this.proc.kill('SIGCONT')
    this.proc.kill('SIGKILL')
    await exited
  }
}

// a replica's first full sync starts at once (Redis 7 waits 5 s for more replicas to share a diskless one)
const BASE = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--repl-diskless-sync-delay', '0']

/** 3 masters and 3 replicas, `cluster-node-timeout` 2 s: a failover takes a few seconds. */
export async function startRedisCluster ({ masters = 3, replicas = 1, nodeTimeout = 2000 } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-redis-cluster-'))
  const nodes = (await ports(masters * (1 + replicas))).map((port) => new Node(port, [
    '--port', String(port), ...BASE, '--dir', dir,
    '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(nodeTimeout)
  ], dir))
  const close = async () => {
    await Promise.all(nodes.map((n) => n.kill()))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await Promise.all(nodes.map((n) => n.start()))
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 })
    await waitFor(async () => {
      const infos = await Promise.all(nodes.map((n) => redisCommand(n.port, 'CLUSTER', 'INFO')))
      if (!infos.every((i) => /cluster_state:ok/.test(i) && new RegExp(`cluster_known_nodes:${nodes.length}`).test(i))) return false
      // replicas start as masters and turn into replicas a moment later
      const roles = await Promise.all(nodes.map((n) => redisCommand(n.port, 'ROLE')))
      return roles.filter(([role]) => role === 'master').length === masters && roles.every(([role, , , state]) => role === 'master' || state === 'connected')
    }, { timeout: 30_000, message: 'cluster_state:ok and every replica in sync' })
  } catch (err) {
    await close()
    throw err
  }
  const cluster = {
    nodes,
    /** "127.0.0.1:p1,127.0.0.1:p2,...": what REDIS_CLUSTER_NODES takes */
    seeds: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    node: (port) => nodes.find((n) => n.port === port),
    /** the current masters' ports, as a live node sees them */
    async masters () {
      const from = nodes.find((n) => n.answering)
      const text = await redisCommand(from.port, 'CLUSTER', 'NODES')
      return text.trim().split('\n').map((l) => l.split(' '))
        .filter((f) => f[2].includes('master') && !f[2].includes('fail'))
        .map((f) => Number(f[1].split(':')[1].split('@')[0]))
    },
    /** the current masters that have a live replica: the ones a failover can replace */
    async mastersWithReplica () {
      const from = nodes.find((n) => n.answering)
      const rows = (await redisCommand(from.port, 'CLUSTER', 'NODES')).trim().split('\n').map((l) => l.split(' '))
      const alive = (f) => !f[2].includes('fail')
      return rows.filter((f) => f[2].includes('master') && alive(f) && rows.some((r) => r[3] === f[0] && r[2].includes('slave') && alive(r)))
        .map((f) => Number(f[1].split(':')[1].split('@')[0]))
    },
    /** the master serving `key`'s slot */
    async masterFor (key) {
      const from = nodes.find((n) => n.answering)
      const slot = await redisCommand(from.port, 'CLUSTER', 'KEYSLOT', key)
      const shards = await redisCommand(from.port, 'CLUSTER', 'SLOTS')
      const owner = shards.find(([lo, hi]) => slot >= lo && slot <= hi)
      return owner[2][1]
    },
    async healthy () {
      const infos = await Promise.all(nodes.filter((n) => n.answering).map((n) => redisCommand(n.port, 'CLUSTER', 'INFO').catch(() => '')))
      return infos.length > 0 && infos.every((i) => /cluster_state:ok/.test(i))
    },
    close
  }
  return cluster
}

/** 1 master, 2 replicas and 3 sentinels (quorum 2, down-after 2 s). */
export async function startRedisSentinel ({ name = 'corral', downAfter = 2000 } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-redis-sentinel-'))
  const [masterPort, ...rest] = await ports(6)
  const replicaPorts = rest.slice(0, 2)
  const sentinelPorts = rest.slice(2)
  const master = new Node(masterPort, ['--port', String(masterPort), ...BASE, '--dir', dir], dir)
  const replicas = replicaPorts.map((port) => new Node(port, ['--port', String(port), ...BASE, '--dir', dir, '--replicaof', '127.0.0.1', String(masterPort)], dir))
  const sentinels = sentinelPorts.map((port) => {
    const file = path.join(dir, `sentinel-${port}.conf`)
    writeFileSync(file, [
      `port ${port}`, 'bind 127.0.0.1', 'protected-mode no', `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${name} ${downAfter}`,
      `sentinel failover-timeout ${name} 10000`,
      `sentinel parallel-syncs ${name} 1`
    ].join('\n') + '\n')
    return new Node(port, [file, '--sentinel'], dir)
  })
  const all = [master, ...replicas, ...sentinels]
  const close = async () => {
    await Promise.all(all.map((n) => n.kill()))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await master.start()
    await Promise.all(replicas.map((n) => n.start()))
    await Promise.all(sentinels.map((n) => n.start()))
    await waitFor(async () => {
      const seen = await Promise.all(sentinels.map((s) => redisCommand(s.port, 'SENTINEL', 'REPLICAS', name).catch(() => [])))
      return seen.every((r) => r.length === 2)
    }, { timeout: 30_000, message: 'every sentinel sees both replicas' })
    // a replica still in its handshake holds nothing: a failover then would lose every key
    await waitFor(async () => {
      const roles = await Promise.all(replicas.map((n) => redisCommand(n.port, 'ROLE')))
      return roles.every(([, , , state]) => state === 'connected')
    }, { timeout: 30_000, message: 'both replicas in sync with the master' })
  } catch (err) {
    await close()
    throw err
  }
  return {
    name,
    master,
    replicas,
    sentinels,
    /** "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3": what REDIS_SENTINELS takes */
    seeds: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    async masterPort () {
      const [, port] = await redisCommand(sentinels.find((s) => s.answering).port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)
      return Number(port)
    },
    node: (port) => all.find((n) => n.port === port),
    close
  }
}
