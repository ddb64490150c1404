import type { WorkerBus } from '../ipc/worker-bus.js'

/** A readiness check: resolve true (or nothing) when the worker may take traffic. */
export type ReadinessCheck = () => boolean | void | Promise<boolean | void>

/**
 * What a worker knows about itself, and the hooks other packages use:
 * `fastify.worker` in the app, `workerContext()` anywhere in the process.
 */
export interface WorkerContext {
  /** stable slot 0..N-1, kept when the worker is replaced (also env CORRAL_SLOT) */
  readonly slot: number
  /** cluster worker id, new for every fork */
  readonly id: number
  readonly pid: number
  /** true from the moment the primary (or a signal) asked this worker to stop */
  readonly draining: boolean
  /** the IPC bus to the primary */
  readonly bus: WorkerBus
  /** the primary waits for every readiness check to pass before it counts the worker ready */
  addReadinessCheck (check: ReadinessCheck): void
  /** runs first when a drain starts, before the listener stops accepting (flush metrics, fail readiness) */
  onDrain (fn: () => void | Promise<void>): void
  /**
   * Asks the primary to load a package's primary side: the default export of
   * `module` (a `file:` URL, e.g. `new URL('./primary.js', import.meta.url)`,
   * the file its package exports as `./primary`), a fastify-plugin the
   * primary registers on its admin instance with `options` (plain JSON).
   * Loaded once, whatever number of workers ask, before the first worker
   * counts as ready. Resolves true once it is there (or was registered by
   * hand in `boot({ primary })`), false when the primary refused or could not
   * load it (its log says why); rejects only on a wrong argument.
   */
  usePrimary (module: string | URL, options?: object): Promise<boolean>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** the cluster-boot worker this app runs in: set inside a worker started by `boot()`, undefined anywhere else */
    worker?: WorkerContext
  }
}

const KEY = Symbol.for('corral.worker-context')
type Holder = { [KEY]?: WorkerContext }

/**
 * The current worker's context, or null outside a cluster-boot worker. Kept
 * on globalThis so two copies of this package in one process agree.
 */
export function workerContext (): WorkerContext | null {
  return (globalThis as Holder)[KEY] ?? null
}

export function setWorkerContext (context: WorkerContext | null): void {
  (globalThis as Holder)[KEY] = context ?? undefined
}
