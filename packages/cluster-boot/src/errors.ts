import createError from '@fastify/error'

/** A `boot()` option has a value it cannot take. */
export const InvalidOptionError = createError(
  'CORRAL_INVALID_OPTION',
  'Invalid option "%s": expected %s, got %s',
  500,
  TypeError
)

/** An IPC request got no reply within its timeout. */
export const IpcTimeoutError = createError(
  'CORRAL_IPC_TIMEOUT',
  'IPC request on "%s" got no reply within %d ms',
  504
)

/** The other side of an IPC request answered with an error. */
export const IpcRemoteError = createError(
  'CORRAL_IPC_REMOTE',
  'IPC request on "%s" failed on the other side: %s',
  502
)

/** The IPC channel is gone (the worker exited, or the primary did). */
export const IpcClosedError = createError(
  'CORRAL_IPC_CLOSED',
  'IPC channel closed before "%s" was answered',
  503
)

/** No request handler is registered for a namespace. */
export const IpcNoHandlerError = createError(
  'CORRAL_IPC_NO_HANDLER',
  'No IPC request handler for "%s"',
  501
)

/** Workers crashed more than `maxRestarts` times within `restartWindow`. */
export const CrashLoopError = createError(
  'CORRAL_CRASH_LOOP',
  'Workers exited %d times within %d ms: crash loop, not forking any more',
  500
)

/** An admin request whose Host header names another server (DNS rebinding). */
export const AdminHostError = createError(
  'CORRAL_ADMIN_HOST',
  'The Host header does not name this admin server',
  421
)

/** An admin request without the bearer token `admin.token` asks for. */
export const AdminUnauthorizedError = createError(
  'CORRAL_ADMIN_UNAUTHORIZED',
  'This admin server needs Authorization: Bearer <admin.token>',
  401
)

/** A mutating admin request a web page could have sent: no admin header, no JSON body, or a foreign Origin. */
export const AdminNotDeliberateError = createError(
  'CORRAL_ADMIN_NOT_DELIBERATE',
  'A mutating admin request needs the header "x-corral-admin: 1" (or a JSON body) and no foreign Origin',
  403
)
