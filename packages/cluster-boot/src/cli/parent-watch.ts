/**
 * npm, pnpm and npx do not forward SIGTERM to the command they run: when
 * they are stopped, the primary would live on, orphaned, with its workers.
 * Once the parent is gone the process is re-parented (ppid changes), and
 * the primary gets the SIGTERM it missed: a graceful drain, then exit.
 */
export function watchParent (onGone: () => void, interval = 1000): () => void {
  const parent = process.ppid
  // pid 1 as parent (a container's init) never goes away before us
  if (parent <= 1) return () => {}
  const timer = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(timer)
    onGone()
  }, interval)
  // never the reason the process stays alive
  timer.unref()
  return () => clearInterval(timer)
}
