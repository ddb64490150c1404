import { createHash, timingSafeEqual } from 'node:crypto'
import os from 'node:os'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { AdminHostError, AdminNotDeliberateError, AdminUnauthorizedError, ScaleError } from '../errors.js'
import type { ResolvedAdminOptions } from '../options.js'
import type { Supervisor } from './supervisor.js'
import type { SupervisorView } from './supervisor-view.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** the cluster-boot supervisor: on the primary's admin instance only, undefined on any other */
    supervisor?: SupervisorView
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]']
const WILDCARD = new Set(['0.0.0.0', '::'])
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * The primary's admin HTTP instance. Other packages register their primary
 * side on it (metrics aggregator, health view, session host); it only
 * listens when an admin port is configured. Every route, theirs too, is
 * guarded: a Host naming this server, the bearer token when one is set, and
 * for mutating requests a sign that no web page sent them.
 */
export function createAdmin (supervisor: Supervisor, log: Logger, options: ResolvedAdminOptions | false = false): FastifyInstance {
  const admin: FastifyInstance = Fastify({
    // request lines at info would drown the log in scrapes and probes
    loggerInstance: log.child({ component: 'admin' }, { level: 'warn' }) as FastifyBaseLogger
  })
  admin.decorate<SupervisorView>('supervisor', supervisor)
  if (options !== false) guard(admin, options)

  // the app's name (`corral start --name`), so `corral list` can show it
  admin.get('/supervisor', async () => {
    const name = process.env.CORRAL_NAME
    return name === undefined || name === '' ? supervisor.state() : { name, ...supervisor.state() }
  })

  admin.post('/reload', async (_request, reply) => {
    if (supervisor.stopping) return reply.code(409).send({ ok: false, error: 'stopping' })
    const result = await supervisor.reload()
    return reply.code(result.ok ? 200 : 500).send(result)
  })

  // `corral scale`: { "workers": 3 | "+1" | "-1" | "max" }; answers once the new slots are ready or the old ones gone
  admin.post('/scale', async (request, reply) => {
    const body = request.body as { workers?: unknown } | null | undefined
    const result = await supervisor.scale(scaleTarget(body?.workers, supervisor.size))
    return reply.code(result.ok ? 200 : 500).send(result)
  })

  // `corral stop`: drains every worker; the answer comes once they are gone, then the primary exits
  admin.post('/stop', async () => {
    await supervisor.stop('admin stop')
    return { ok: true, stopped: true }
  })
  return admin
}

/** A worker count as `corral scale` takes it: n, "n", "+n", "-n" (from `current`) or "max". */
export function scaleTarget (value: unknown, current: number): number {
  if (typeof value === 'number') return value
  if (value === 'max') return os.availableParallelism()
  if (typeof value === 'string' && /^[+-]?\d{1,7}$/.test(value)) return /^[+-]/.test(value) ? current + Number(value) : Number(value)
  throw new ScaleError('a count, +n, -n or "max"', JSON.stringify(value) ?? 'nothing')
}

function guard (admin: FastifyInstance, options: ResolvedAdminOptions): void {
  const token = options.token === undefined ? undefined : digest(options.token)
  // read per request from the socket, not cached: a request injected before listen would freeze port 0
  const allowed = (): Set<string> => {
    const address = admin.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : options.port
    // the configured host itself always (127.0.0.2 is loopback too, but no loopback name says it)
    const hosts = new Set([bracket(options.host)])
    if (isLoopback(options.host)) for (const name of LOOPBACK_NAMES) hosts.add(name)
    if (WILDCARD.has(options.host)) {
      for (const name of LOOPBACK_NAMES) hosts.add(name)
      hosts.add(os.hostname().toLowerCase())
      for (const list of Object.values(os.networkInterfaces())) for (const i of list ?? []) hosts.add(bracket(i.address))
    }
    const names = new Set(options.allowedHosts)
    for (const h of hosts) {
      names.add(`${h}:${port}`)
      // on the default port a browser sends the bare name
      if (port === 80) names.add(h)
    }
    for (const h of options.allowedHosts) if (!h.includes(':') || h.startsWith('[')) names.add(`${h}:${port}`)
    return names
  }
  const hostOf = (value: string): string => {
    try { return new URL(value).host.toLowerCase() } catch { return '' }
  }

  admin.addHook('onRequest', async (request: FastifyRequest) => {
    // DNS rebinding: a page of evil.example resolved to this address still sends its own name
    if (!allowed().has((request.headers.host ?? '').toLowerCase())) throw new AdminHostError()
    if (token !== undefined && !credentialsMatch(request.headers.authorization, token)) throw new AdminUnauthorizedError()
    if (SAFE_METHODS.has(request.method)) return
    // a page can POST a form or a no-cors fetch, but not with a custom header or a JSON type without a CORS preflight we never answer
    const deliberate = request.headers['x-corral-admin'] === '1' || /^application\/json\b/i.test(request.headers['content-type'] ?? '')
    const origin = request.headers.origin
    if (!deliberate || (origin !== undefined && !allowed().has(hostOf(origin)))) throw new AdminNotDeliberateError()
  })
  admin.addHook('onSend', async (request, reply) => {
    // Basic too: a browser then asks once and sends it with the dashboard's own requests
    if (reply.statusCode === 401) reply.header('www-authenticate', ['Bearer realm="corral admin"', 'Basic realm="corral admin", charset="UTF-8"'])
  })
}

// equal-length digests, so the comparison takes the same time whatever the input
function digest (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/** `Bearer <token>`, or `Basic` with the token as the password (any user name). */
function credentialsMatch (header: string | undefined, expected: Buffer): boolean {
  const bearer = /^Bearer +(\S+)\s*$/i.exec(header ?? '')
  if (bearer !== null) return timingSafeEqual(digest(bearer[1]), expected)
  const basic = /^Basic +([A-Za-z0-9+/]+=*)\s*$/i.exec(header ?? '')
  if (basic === null) return false
  const pair = Buffer.from(basic[1], 'base64').toString('utf8')
  const colon = pair.indexOf(':')
  return colon !== -1 && timingSafeEqual(digest(pair.slice(colon + 1)), expected)
}

function bracket (host: string): string {
  const lower = host.toLowerCase()
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower
}

/** A loopback host name or address: localhost, ::1, 127.0.0.0/8, and 127.x mapped into IPv6 (::ffff:127.0.0.1). */
export function isLoopback (host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1')
  return LOOPBACK.has(h) || h.startsWith('127.') || h.startsWith('::ffff:127.')
}
