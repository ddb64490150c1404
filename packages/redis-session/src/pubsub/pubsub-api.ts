/** Gets each message of a channel; a throw or rejection is logged, never fatal. */
export type MessageHandler = (message: unknown, channel: string) => void | Promise<void>

export interface PubSubApi {
  /** sends a JSON message to every subscriber of `channel`, on every worker and machine */
  publish (channel: string, message: unknown): Promise<void>
  /** resolves once subscribed, with a function that unsubscribes */
  subscribe (channel: string, handler: MessageHandler): Promise<() => Promise<void>>
  /** `fn` runs after a reconnect resubscribed: messages sent meanwhile are lost, drop what you derived from them */
  onResubscribe (fn: () => void): void
  close (): Promise<void>
}
