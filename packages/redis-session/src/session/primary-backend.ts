import type { WorkerBus } from '@corral/cluster-boot'
import type { SessionBackend, WriteMode } from './backend.js'
import { SESSION_NAMESPACE, type SessionRequest } from './host.js'

/**
 * A worker's view of the sessions the cluster-boot primary hosts: every call
 * is one request over the IPC bus, bounded by `timeout`.
 */
export class PrimarySessionBackend implements SessionBackend {
  constructor (private readonly bus: WorkerBus, private readonly timeout: number) {}

  private async ask<T> (request: SessionRequest): Promise<T> {
    return await this.bus.request<T>(SESSION_NAMESPACE, request, { timeout: this.timeout })
  }

  /** Rejects with CORRAL_IPC_NO_HANDLER when the primary does not host sessions. */
  async ping (): Promise<void> { await this.ask({ op: 'ping' }) }

  async get (id: string, ttl: number): Promise<string | null> {
    return await this.ask({ op: 'get', id, ttl })
  }

  async set (id: string, value: string, ttl: number, mode: WriteMode, user?: string): Promise<boolean> {
    return await this.ask({ op: 'set', id, value, ttl, mode, user })
  }

  async touch (id: string, ttl: number): Promise<void> {
    await this.ask({ op: 'touch', id, ttl })
  }

  async destroy (id: string): Promise<void> {
    await this.ask({ op: 'destroy', id })
  }

  async destroyAll (user: string): Promise<number> {
    return await this.ask({ op: 'destroyAll', user })
  }

  // the primary's index entries leave with their sessions: nothing to keep alive
  async keepIndex (): Promise<void> {}
}
