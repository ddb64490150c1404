import { readFile, realpath } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { Logger } from 'pino'
import { PRIMARY_MODULES, readPrimaryModuleRequest, type JsonObject, type PrimaryModuleReply } from '../ipc/control.js'
import type { Supervisor } from './supervisor.js'
import type { WorkerRecord } from './worker-record.js'

interface PluginMeta { name?: unknown }

/** What fastify-plugin leaves on a plugin: its name is what `hasPlugin` knows it by. */
function pluginName (plugin: unknown): string | undefined {
  if (typeof plugin !== 'function') return undefined
  const meta = (plugin as unknown as Record<symbol, PluginMeta | undefined>)[Symbol.for('plugin-meta')]
  return typeof meta?.name === 'string' && meta.name !== '' ? meta.name : undefined
}

/** The file a package.json's `exports['./primary']` names, or undefined. */
function primaryExport (exports: unknown): string | undefined {
  if (exports === null || typeof exports !== 'object') return undefined
  let target = (exports as Record<string, unknown>)['./primary']
  // conditions: the ones the primary's import() would pick
  for (let depth = 0; depth < 4 && target !== null && typeof target === 'object'; depth++) {
    const conditions = target as Record<string, unknown>
    target = conditions.import ?? conditions.node ?? conditions.default
  }
  return typeof target === 'string' ? target : undefined
}

/**
 * Only what a package declares as its primary side loads in the primary: the
 * file must be the `./primary` export of the package it sits in. A worker is
 * untrusted input; this keeps it from making the primary run any other file
 * on the machine. Resolves with the file's real path, or why it is refused.
 */
async function declaredPrimary (file: string): Promise<{ real: string } | { refused: string }> {
  let real: string
  try { real = await realpath(file) } catch { return { refused: 'no such file' } }
  for (let dir = path.dirname(real); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    let manifest: { name?: unknown, exports?: unknown } | undefined
    try { manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) } catch {}
    // a nested manifest that only sets "type" is not the package
    if (manifest === undefined || (manifest.name === undefined && manifest.exports === undefined)) continue
    const declared = primaryExport(manifest.exports)
    if (declared === undefined) return { refused: `its package (${dir}) exports no "./primary"` }
    const target = await realpath(path.resolve(dir, declared)).catch(() => undefined)
    return target === real ? { real } : { refused: `it is not the "./primary" export of its package (${dir})` }
  }
  return { refused: 'no package.json above it' }
}

/**
 * The primary side of `worker.usePrimary()`: loads each primary module a
 * worker names (once, whatever number of workers ask) and registers its
 * default export on the admin instance, then readies the admin server when
 * the first worker is about to count as ready. Fastify adds no route to a
 * ready instance: a module first asked for after that is refused with a
 * warning, and the worker still starts.
 */
export class PrimaryModules {
  private readonly loaded = new Map<string, Promise<PrimaryModuleReply>>()
  private readonly warnedLate = new Set<string>()
  /** why modules can no longer be registered, once they cannot */
  private closedBecause: string | undefined
  private opened: Promise<void> | undefined
  private queue: Promise<unknown> = Promise.resolve()

  constructor (
    private readonly admin: FastifyInstance,
    private readonly supervisor: Supervisor,
    private readonly log: Logger,
    /** readies (and listens) the admin server */
    private readonly open: () => Promise<void>
  ) {
    supervisor.bus.handle(PRIMARY_MODULES, (data, from) => this.answer(data, from))
    // every worker failed before it could ask: serve /supervisor (backoff, last error) rather than nothing
    supervisor.on('exit', (record: WorkerRecord) => {
      if (record.readyAt !== undefined || supervisor.stopping) return
      if (!supervisor.workers().some((w) => w.state === 'starting')) this.seal('every worker exited before ready').catch(() => {})
    })
    // whoever readied it (a seal, or inject()/ready() in boot({ primary })), nothing more can be registered
    admin.addHook('onReady', async () => { this.closedBecause ??= 'the admin instance was made ready in boot({ primary }) (inject() or ready())' })
  }

  /** Readies the admin server once; resolves when it is up (or failed: `open` says so). */
  seal (reason: string): Promise<void> {
    if (this.opened !== undefined) return this.opened
    this.closedBecause ??= 'it was first asked for after the cluster started (new code in a reload?)'
    this.log.debug({ reason }, 'admin server: primary modules in, readying it')
    this.opened = this.enqueue(() => this.open())
    return this.opened
  }

  /** Resolves once nothing is loading or opening (before the admin instance closes). */
  settled (): Promise<void> {
    return this.queue.then(() => {}, () => {})
  }

  private async answer (data: unknown, from: WorkerRecord): Promise<PrimaryModuleReply> {
    const request = readPrimaryModuleRequest(data)
    const who = { slot: from.slot, pid: from.pid }
    if ('refused' in request) {
      this.supervisor.bus.stats.malformed++
      this.log.warn({ ...who, reason: request.refused }, 'refused a primary module request from a worker')
      return { loaded: false, reason: request.refused }
    }
    if (request.op === 'seal') {
      await this.seal(`slot ${from.slot} is about to be ready`)
      return { loaded: true }
    }
    const { module, options } = request
    const known = this.loaded.get(module)
    if (known !== undefined) return await known
    if (this.closedBecause !== undefined) {
      if (!this.warnedLate.has(module)) {
        this.warnedLate.add(module)
        this.log.warn({ ...who, module, reason: this.closedBecause }, `primary module not loaded: the admin server is already up, restart the cluster to load it (${module})`)
      }
      return { loaded: false, reason: 'the admin server is already up' }
    }
    const load = this.enqueue(() => this.load(module, options, who))
    this.loaded.set(module, load)
    return await load
  }

  private async load (module: string, options: JsonObject, who: { slot: number, pid: number }): Promise<PrimaryModuleReply> {
    const refuse = (reason: string, err?: unknown): PrimaryModuleReply => {
      this.log.error({ ...who, module, reason, ...(err === undefined ? {} : { err }) }, 'primary module not loaded')
      return { loaded: false, reason }
    }
    const declared = await declaredPrimary(fileURLToPath(module))
    if ('refused' in declared) return refuse(declared.refused)
    let plugin: unknown
    try {
      // by its real path, as Node resolves the app's own imports: one module instance, not two
      plugin = ((await import(pathToFileURL(declared.real).href)) as { default?: unknown }).default
    } catch (err) {
      return refuse('importing it failed', err)
    }
    const name = pluginName(plugin)
    if (name === undefined) return refuse('its default export is not a plugin wrapped with fastify-plugin and a name')
    if (this.admin.hasPlugin(name)) {
      this.log.debug({ module, plugin: name }, 'primary module already registered in boot({ primary })')
      return { loaded: true }
    }
    // a plugin that throws must not break the admin instance: its error is handled here, not by ready()
    let failure: unknown
    await this.admin.register(plugin as FastifyPluginAsync, options).after((err) => { failure = err ?? undefined })
    if (failure !== undefined) return refuse('its plugin failed to register', failure)
    this.log.info({ ...who, module, plugin: name }, 'primary module loaded')
    return { loaded: true }
  }

  private enqueue<T> (task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task)
    this.queue = run.catch(() => {})
    return run
  }
}
