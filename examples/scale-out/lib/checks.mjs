// After a failover: does pub/sub deliver again, and does "log out
// everywhere" still reach every session of a user, whatever their slots?
import { waitFor } from '@corral/test-helpers'
import { login } from './traffic.mjs'

const json = { 'content-type': 'application/json' }

/**
 * Broadcasts until a message reaches every worker the balancer sends
 * `/messages` to (`probes` reads in a row), within `timeout`; resolves the
 * number of broadcasts it took.
 */
export async function pubsubDelivers (url, { probes = 12, timeout = 20_000 } = {}) {
  let sent = 0
  await waitFor(async () => {
    const text = `after-failover-${Date.now()}-${sent++}`
    const res = await fetch(`${url}/broadcast`, { method: 'POST', headers: json, body: JSON.stringify({ text }) })
    if (res.status !== 200) return false
    await new Promise((resolve) => setTimeout(resolve, 200))
    for (let i = 0; i < probes; i++) {
      const got = await fetch(`${url}/messages`)
      if (got.status !== 200) return false
      const { messages } = await got.json()
      if (!messages.some((m) => m.text === text)) return false
    }
    return true
  }, { timeout, interval: 300, message: 'a broadcast seen by every worker' })
  return sent
}

/** `count` sessions of one user (spread over the slots), then POST /logout-all: resolves { removed, survivors }. */
export async function logoutEverywhere (url, user, count = 12) {
  const sessions = []
  for (let i = 0; i < count; i++) sessions.push(...await login(url, 1, user))
  // login() numbers its users: every session here is `${user}0`
  const res = await fetch(`${url}/logout-all`, { method: 'POST', headers: { cookie: sessions[0].cookie } })
  const { removed } = await res.json()
  let survivors = 0
  for (const { cookie } of sessions) {
    const me = await (await fetch(`${url}/me`, { headers: { cookie } })).json()
    if (me.user !== null) survivors++
  }
  return { removed, survivors, count }
}

/** The runs of 503s ([first, last] ms) that fell outside every allowed window ([from, to] ms). */
export function outside (runs, windows) {
  return runs.filter(([first, last]) => !windows.some(([from, to]) => first >= from && last <= to))
}
