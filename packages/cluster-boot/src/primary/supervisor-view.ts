import type { BusStats, RequestOptions } from '../ipc/ipc-bus.js'
import type { ExitInfo, ReloadResult, ReplaceReason, SlotState, SupervisorState as InternalState } from './supervisor.js'
import type { WorkerState, WorkerStats } from './worker-record.js'

/**
 * What the primary side of a package sees of the supervisor: `fastify.supervisor`
 * on the admin instance, and what `boot()` resolves with in the primary.
 * Read-only: the supervisor's own bookkeeping is not part of it.
 */

/** One live worker process as the primary knows it. */
export interface WorkerInfo {
  /** stable slot 0..N-1, kept when the worker is replaced */
  readonly slot: number
  /** cluster worker id, new for every fork */
  readonly id: number
  readonly pid: number
  readonly state: WorkerState
  /** epoch ms of the fork */
  readonly startedAt: number
  /** epoch ms it reported ready, undefined until then */
  readonly readyAt: number | undefined
  /** restarts of this slot before this worker was forked */
  readonly restarts: number
  /** what it last reported (memory, event loop), undefined before its first report */
  readonly stats: Readonly<WorkerStats> | undefined
}

/** The primary's end of the IPC bus: messages from workers, messages and requests to them. */
export interface PrimaryBusApi {
  /** what the bus saw: received, sent, malformed, unknown, handler errors */
  readonly stats: Readonly<BusStats>
  /** Listens to messages workers send on `namespace`; returns an unsubscribe function. */
  on (namespace: string, listener: (data: unknown, from: WorkerInfo) => void): () => void
  /** Answers requests workers make on `namespace`; the return value (or promise) is the reply. */
  handle (namespace: string, responder: (data: unknown, from: WorkerInfo) => unknown): void
  /** Fire-and-forget message to one worker; false when its channel is gone. */
  send (to: WorkerInfo, namespace: string, data?: unknown): boolean
  /** Sends to every live worker; returns how many it reached. */
  broadcast (namespace: string, data?: unknown): number
  /** Asks one worker and resolves with its handler's answer. */
  request<T = unknown> (to: WorkerInfo, namespace: string, data?: unknown, options?: RequestOptions): Promise<T>
}

/** The supervisor's events and what their listeners get. */
export interface SupervisorEvents {
  fork: [worker: WorkerInfo]
  online: [worker: WorkerInfo]
  ready: [worker: WorkerInfo]
  exit: [worker: WorkerInfo, info: ExitInfo]
  /** `reason`: 'crash', or why a live worker was replaced */
  restart: [worker: WorkerInfo, replaced: WorkerInfo, reason: ReplaceReason | 'crash']
  reload: [result: ReloadResult]
  stats: [worker: WorkerInfo]
  unresponsive: [worker: WorkerInfo]
  crashloop: [error: Error]
  startupfailed: [error: Error]
  stopped: []
}

/** A summary of the supervisor, for admin endpoints and metrics. */
export type SupervisorState = Omit<InternalState, 'workers'> & { workers: WorkerInfo[] }

export interface SupervisorView {
  /** the primary's end of the IPC bus */
  readonly bus: PrimaryBusApi
  /** true once a stop began (signal, admin, or the supervisor gave up) */
  readonly stopping: boolean
  /** Live workers, by slot; during a reload a slot can have two. */
  workers (): WorkerInfo[]
  /** Each slot: serving, starting, or backing off after crashes. */
  slotStates (): SlotState[]
  state (): SupervisorState
  /** Rolling reload, one slot at a time; a reload asked for while one runs joins it. */
  reload (): Promise<ReloadResult>
  /** Drains every worker; resolves when all are gone. */
  stop (reason?: string): Promise<void>
  on<E extends keyof SupervisorEvents> (event: E, listener: (...args: SupervisorEvents[E]) => void): this
  once<E extends keyof SupervisorEvents> (event: E, listener: (...args: SupervisorEvents[E]) => void): this
  off<E extends keyof SupervisorEvents> (event: E, listener: (...args: SupervisorEvents[E]) => void): this
}
