import createError from '@fastify/error'
import { invalidOptionError } from './option-checks.js'

/** A `boot()` option has a value it cannot take: `@corral/cluster-boot: option "<path>" must be <what> (got <value>)`. */
export const InvalidOptionError = invalidOptionError('CORRAL_INVALID_OPTION', '@corral/cluster-boot')

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

/** Every slot crash-looped past `maxRestarts` without a worker ever becoming ready. */
export const CrashLoopError = createError(
  'CORRAL_CRASH_LOOP',
  'Every slot crashed more than %d times in a row before a worker became ready: crash loop, not forking any more',
  500
)

/** The `app` factory returned something that is not a Fastify instance. */
export const AppNotFastifyError = createError(
  'CORRAL_APP_NOT_FASTIFY',
  'The app factory (option "app") returned %s, not a Fastify instance: return the instance from Fastify() (or a promise of it)',
  500,
  TypeError
)

/** Every worker of a slot failed at start-up with the same error: nothing will start. */
export const StartupError = createError(
  'CORRAL_STARTUP_FAILED',
  'Cannot start: %s',
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

/** `corral start` found nothing to start: no entry given, no config file in the directory. */
export const ConfigNotFoundError = createError(
  'CORRAL_CONFIG_NOT_FOUND',
  'No app given and no corral.config.{js,mjs,cjs,json} or ecosystem.config.js in %s: run `corral start app.js` or `corral start -c <config>`',
  500
)

/** A TypeScript entry, and neither Node's type stripping nor tsx to run it. */
export const TypeScriptUnavailableError = createError(
  'CORRAL_TYPESCRIPT_UNAVAILABLE',
  '%s is TypeScript: Node %s cannot strip types (Node >= 22.6 can) and tsx is not installed: install it next to the app (npm i -D tsx) or start the compiled .js',
  500
)

/** `worker.usePrimary()` was given a module or options the primary would refuse. */
export const InvalidPrimaryModuleError = createError(
  'CORRAL_INVALID_PRIMARY_MODULE',
  'worker.usePrimary(%s): %s',
  500,
  TypeError
)
/** `scale()` / `corral scale` got a worker count it cannot take. */
export const ScaleError = createError(
  'CORRAL_INVALID_SCALE',
  'Invalid worker count for scale: expected %s, got %s',
  400,
  TypeError
)

/** `scale()` cannot change this app's number of slots now (sticky scheduling, or stopping). */
export const ScaleRefusedError = createError(
  'CORRAL_SCALE_REFUSED',
  'Cannot scale: %s',
  409
)
