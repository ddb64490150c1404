// Logged-in users hitting a session route through the balancer, counting
// every answer: what failed, how long the 503 windows lasted, and whether a
// session ever came back anonymous (a lost session: a silent logout).
import { Agent, request } from 'undici'

/** Logs `count` users in through `url`; resolves [{ user, cookie }]. */
export async function login (url, count, name = 'user') {
  const users = []
  for (let i = 0; i < count; i++) {
    const user = `${name}${i}`
    const res = await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }) })
    if (res.status !== 200) throw new Error(`login ${user}: ${res.status} ${await res.text()}`)
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
    users.push({ user, cookie })
  }
  return users
}

/**
 * Runs `concurrency` keep-alive loops of GET `path` as the given users until
 * `stop()`; each answer is classified. `stats()` gives the figures so far.
 */
export function runLoad (url, users, { concurrency = 8, path = '/me', timeout = 15_000 } = {}) {
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 4000 })
  const figures = { total: 0, ok: 0, failed: 0, status503: 0, errors: 0, lost: 0, wrongUser: 0, first503: 0, last503: 0, longest503: 0 }
  const failures = []
  // every run of 503s as [first, last] ms timestamps: where each outage began and ended
  const windows503 = []
  let open503 = 0
  let running = true

  const note = (kind, detail) => {
    figures.failed++
    if (failures.length < 20) failures.push({ at: new Date().toISOString(), kind, detail })
  }
  const loop = async (n) => {
    let i = n
    // eslint-disable-next-line no-unmodified-loop-condition -- stop() clears it while the loop awaits
    while (running) {
      const { user, cookie } = users[i++ % users.length]
      figures.total++
      try {
        const res = await request(`${url}${path}`, { headers: { cookie }, dispatcher: agent, headersTimeout: timeout, bodyTimeout: timeout })
        const text = await res.body.text()
        const now = Date.now()
        if (res.statusCode === 503) {
          figures.status503++
          if (figures.first503 === 0) figures.first503 = now
          figures.last503 = now
          if (open503 === 0) { open503 = now; windows503.push([now, now]) }
          windows503[windows503.length - 1][1] = now
          figures.longest503 = Math.max(figures.longest503, now - open503)
          note('503', text.slice(0, 200))
          continue
        }
        open503 = 0
        if (res.statusCode !== 200) { note(String(res.statusCode), text.slice(0, 200)); continue }
        const body = JSON.parse(text)
        if (body.user === null) { figures.lost++; note('lost session', user); continue }
        if (body.user !== user) { figures.wrongUser++; note('wrong user', `${user} got ${body.user}`); continue }
        figures.ok++
      } catch (err) {
        figures.errors++
        note('error', err.code ?? err.message)
      }
    }
  }
  const loops = Array.from({ length: concurrency }, (_, n) => loop(n))
  let stopped
  return {
    stats: () => ({ ...figures }),
    failures,
    windows503,
    stop () {
      running = false
      stopped ??= Promise.all(loops).then(() => agent.close()).then(() => ({ ...figures }))
      return stopped
    }
  }
}

/** After the storm: does every user still have its session? Resolves the users that lost theirs. */
export async function lostSessions (url, users) {
  const lost = []
  for (const { user, cookie } of users) {
    const res = await fetch(`${url}/me`, { headers: { cookie } })
    const body = res.status === 200 ? await res.json() : null
    if (body?.user !== user) lost.push(user)
  }
  return lost
}

export const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
