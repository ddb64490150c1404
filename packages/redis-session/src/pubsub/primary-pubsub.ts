import type { PrimaryBusApi, WorkerBus } from '@corral/cluster-boot'
import type { FastifyBaseLogger } from 'fastify'
import { BusUnavailableError, InvalidRequestError, reason } from '../errors.js'
import { checkChannel, checkSize, encode, Handlers } from './channel-handlers.js'
import type { MessageHandler, PubSubApi } from './pubsub-api.js'

export const PUBSUB_NAMESPACE = 'corral.pubsub'
const IPC_TIMEOUT_MS = 1000

interface Published { channel: string, json: string }

function parsePublished (data: unknown): Published {
  const m = data as Partial<Published> | null
  if (m === null || typeof m !== 'object' || typeof m.json !== 'string') throw new InvalidRequestError('bad pub/sub message')
  checkChannel(m.channel)
  try {
    checkSize(m.json)
  } catch (err) {
    throw new InvalidRequestError((err as Error).message)
  }
  return { channel: m.channel, json: m.json }
}

/** A worker's pub/sub through the cluster-boot primary, which broadcasts each message to every worker. */
export class PrimaryPubSub implements PubSubApi {
  private readonly handlers: Handlers
  private readonly unlisten: () => void

  constructor (private readonly bus: WorkerBus, private readonly log: FastifyBaseLogger) {
    this.handlers = new Handlers(log)
    this.unlisten = bus.on(PUBSUB_NAMESPACE, (data) => {
      let published: Published
      try {
        published = parsePublished(data)
      } catch {
        log.warn('pub/sub: a malformed message from the primary was dropped')
        return
      }
      this.handlers.deliver(published.channel, published.json)
    })
  }

  async publish (channel: string, message: unknown): Promise<void> {
    checkChannel(channel)
    const json = encode(message)
    try {
      await this.bus.request(PUBSUB_NAMESPACE, { channel, json }, { timeout: IPC_TIMEOUT_MS })
    } catch (err) {
      throw new BusUnavailableError(reason(err))
    }
  }

  async subscribe (channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    checkChannel(channel)
    this.handlers.add(channel, handler)
    return async () => { this.handlers.remove(channel, handler) }
  }

  // the IPC channel lives as long as the worker: nothing to resubscribe
  onResubscribe (fn: () => void): void { this.handlers.onResubscribe(fn) }

  async close (): Promise<void> {
    this.unlisten()
    this.handlers.clear()
  }
}

/** The primary's side: every published message (checked: a worker may be broken) goes to every live worker. */
export function hostPubSub (bus: PrimaryBusApi): () => void {
  bus.handle(PUBSUB_NAMESPACE, (data) => {
    const published = parsePublished(data)
    return bus.broadcast(PUBSUB_NAMESPACE, published)
  })
  return () => {}
}
