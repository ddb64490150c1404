import { readFileSync } from 'node:fs'

interface ProcStat {
  ppid: number
  pgrp: number
  state: string
  /** start time in clock ticks since boot: a pid reused by another process has another */
  start: string
}

/** /proc/<pid>/stat on Linux; undefined when the process is gone or there is no /proc. */
function procStat (pid: number): ProcStat | undefined {
  let text: string
  try { text = readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return undefined }
  // the command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return { state: fields[0], ppid: Number(fields[1]), pgrp: Number(fields[2]), start: fields[19] }
}

interface Launcher {
  pid: number
  start: string
  /** the process that started it, as it was: a change means it died and this one was re-parented */
  ppid: number
}

/**
 * The processes that started this one: its parent, and above it every
 * ancestor in this process group. `pnpm dev` is pnpm → sh → pnpm → sh →
 * node, one group: when the outer pnpm gets SIGTERM it dies alone, the
 * inner ones live on, and only the whole chain tells. Above the group
 * (the shell that ran `nohup npm start &`) is not ours to follow. pid 1
 * (a container's init, systemd) never goes away before us.
 */
export function launchers (pid = process.pid): Launcher[] | undefined {
  const own = procStat(pid)
  if (own === undefined) return undefined
  const chain: Launcher[] = []
  for (let next = own.ppid; next > 1;) {
    const stat = procStat(next)
    if (stat === undefined) break
    if (chain.length > 0 && stat.pgrp !== own.pgrp) break
    chain.push({ pid: next, start: stat.start, ppid: stat.ppid })
    if (stat.pgrp !== own.pgrp) break
    next = stat.ppid
  }
  return chain
}

/** The first launcher that is gone: exited (a zombie nobody reaps counts), replaced by another process, or re-parented. */
function goneLauncher (chain: Launcher[]): number | undefined {
  for (const launcher of chain) {
    const stat = procStat(launcher.pid)
    if (stat === undefined || stat.state === 'Z' || stat.start !== launcher.start || stat.ppid !== launcher.ppid) return launcher.pid
  }
  return undefined
}

/**
 * npm, pnpm and npx do not forward SIGTERM to the command they run: when
 * they are stopped, the primary would live on, orphaned, with its workers.
 * This polls the chain of processes that started this one (see
 * `launchers`; without /proc, the parent alone: a change of ppid) and
 * calls `onGone` once when any of them is gone.
 */
export function watchParent (onGone: (launcher: number) => void, interval = 1000): () => void {
  const parent = process.ppid
  // pid 1 as parent (a container's init) never goes away before us
  if (parent <= 1) return () => {}
  const chain = launchers()
  const timer = setInterval(() => {
    const gone = chain === undefined ? (process.ppid === parent ? undefined : parent) : (process.ppid !== parent ? parent : goneLauncher(chain))
    if (gone === undefined) return
    clearInterval(timer)
    onGone(gone)
  }, interval)
  // never the reason the process stays alive
  timer.unref()
  return () => clearInterval(timer)
}
