// A small Redis Cluster of masters only (no replicas), on spare ports, for
// package tests: enough for a Cluster client, sharded pub/sub and CLUSTER
// INFO. Each node can be stopped, restarted with its identity (nodes.conf,
// so clients must find it again), paused and resumed. Nodes announce
// 127.0.0.1: alone, a node reports an empty address in CLUSTER SLOTS.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { freePort, waitFor } from './index.js'

const SLOTS = 16384

const run = promisify(execFile)

/** One command through redis-cli (the root has no Redis client of its own); resolves its raw output, trimmed. */
async function ask (port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 2000 })
  return stdout.trim()
}

export interface ClusterNode {
  port: number
  url: string
  /** one command through redis-cli; its raw output, trimmed */
  ask (...args: string[]): Promise<string>
  start (): Promise<void>
  pause (): void
  resume (): void
  stop (): Promise<void>
}

export interface RedisCluster {
  nodes: ClusterNode[]
  node: ClusterNode
  /** host:port of every node */
  seeds: string[]
  close (): Promise<void>
}

async function startNode (dir: string, args: string[] = []): Promise<ClusterNode> {
  const port = await freePort()
  let proc: ChildProcess | undefined
  const node: ClusterNode = {
    port,
    url: `redis://127.0.0.1:${port}`,
    ask: (...args) => ask(port, ...args),
    async start () {
      proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
        '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-announce-ip', '127.0.0.1', ...args], { stdio: 'ignore' })
      await waitFor(async () => (await ask(port, 'PING').catch(() => '')) === 'PONG', { timeout: 10_000, message: `cluster node on ${port}` })
    },
    pause () { proc?.kill('SIGSTOP') },
    resume () { proc?.kill('SIGCONT') },
    async stop () {
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
      const running = proc
      const exited = new Promise((resolve) => running.once('exit', resolve))
      running.kill('SIGCONT')
      running.kill('SIGKILL')
      await exited
    }
  }
  await node.start()
  return node
}

/**
 * `masters` nodes sharing the 16384 slots, cluster_state:ok on each; `close()`
 * ends them. `args`: more redis-server arguments for every node.
 */
export async function startRedisCluster ({ masters = 1, args = [] }: { masters?: number, args?: string[] } = {}): Promise<RedisCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-cluster-'))
  const nodes: ClusterNode[] = []
  const close = async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < masters; i++) nodes.push(await startNode(dir, args))
    const share = Math.ceil(SLOTS / masters)
    for (const [i, node] of nodes.entries()) {
      await node.ask('CLUSTER', 'ADDSLOTSRANGE', String(i * share), String(Math.min(SLOTS, (i + 1) * share) - 1))
      if (i > 0) await node.ask('CLUSTER', 'MEET', '127.0.0.1', String(nodes[0].port))
    }
    await waitFor(async () => {
      const infos = await Promise.all(nodes.map((n) => n.ask('CLUSTER', 'INFO')))
      return infos.every((i) => /cluster_state:ok/.test(i) && i.includes(`cluster_known_nodes:${masters}`))
    }, { timeout: 15_000, message: 'cluster_state:ok on every node' })
  } catch (err) {
    await close()
    throw err
  }
  return { nodes, node: nodes[0], seeds: nodes.map((n) => `127.0.0.1:${n.port}`), close }
}
