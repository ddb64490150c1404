/** The parts of an ioredis Cluster the check needs. */
export interface ClusterClient {
  isCluster: true
  cluster: (subcommand: 'INFO') => Promise<string>
  nodes: (role: 'master') => Array<{ ping: () => Promise<string>, options: { host?: string, port?: number } }>
}

/** The parts of an ioredis client on Sentinel the check needs. */
export interface SentinelClient {
  options: { sentinels?: unknown[] | null }
  role: () => Promise<unknown[]>
}

export function isCluster (client: object): client is ClusterClient {
  return (client as { isCluster?: unknown }).isCluster === true
}

export function isSentinel (client: object): client is SentinelClient {
  const options = (client as { options?: { sentinels?: unknown } }).options
  return Array.isArray(options?.sentinels) && options.sentinels.length > 0
}

/**
 * A Cluster serves every slot (CLUSTER INFO says cluster_state:ok) and every
 * master answers a PING: one hung master fails the check instead of being
 * missed by a PING that lands on another node.
 */
export async function clusterRoundTrip (client: ClusterClient): Promise<void> {
  const info = await client.cluster('INFO')
  const state = /^cluster_state:(\w+)/m.exec(info)?.[1]
  // every Redis answers CLUSTER INFO with a cluster_state line: 'unknown' guards a server that does not
  /* c8 ignore next */
  if (state !== 'ok') throw new Error(`cluster_state:${state ?? 'unknown'}`)
  const masters = client.nodes('master')
  // ioredis knows the masters once CLUSTER INFO has answered: an empty list guards a client that does not
  /* c8 ignore next */
  if (masters.length === 0) throw new Error('no master known')
  const answers = await Promise.allSettled(masters.map(async (node) => await node.ping()))
  // ioredis gives every node its host and port: the fallbacks only keep the message a string
  /* c8 ignore next */
  const down = masters.filter((_node, i) => answers[i].status === 'rejected').map((n) => `${n.options.host ?? ''}:${n.options.port ?? ''}`)
  if (down.length > 0) throw new Error(`master ${down.join(', ')} does not answer`)
}

/** On Sentinel, the client is connected to the current master, not to a replica left behind by a failover. */
export async function sentinelRoundTrip (client: SentinelClient): Promise<void> {
  const [role] = await client.role()
  if (role !== 'master') throw new Error(`connected to a ${String(role)}, not the master`)
}
