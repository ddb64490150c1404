import createError, { type FastifyError, type FastifyErrorConstructor } from '@fastify/error'

/**
 * One way for every Corral package to read its options: checked once at
 * start-up, with the default beside each, and one error format,
 * `<plugin>: option "<path>" must be <expected> (got <value>)`, under the
 * package's own code. Published as `@corral/cluster-boot/options`.
 */

/** The arguments of an invalid-option error: the option's path, what it must be, what it got. */
export type InvalidOptionArgs = [option: string, expected: string, got: string]

export type InvalidOptionErrorConstructor<C extends string = string> = FastifyErrorConstructor<{ code: C, statusCode: 500 }, InvalidOptionArgs>

/** What an invalid-option error carries besides its message, so a caller can re-word it (the CLI names the file). */
export interface InvalidOption extends FastifyError {
  option: string
  expected: string
  got: string
}

/** The error class of a package's bad options: a TypeError with `code` and the common message. */
export function invalidOptionError<C extends string> (code: C, plugin: string): InvalidOptionErrorConstructor<C> {
  return createError<C, 500, InvalidOptionArgs>(code, `${plugin.replaceAll('%', '%%')}: option "%s" must be %s (got %s)`, 500, TypeError)
}

/** How a value is shown in an error: strings quoted, functions and class instances by kind, the rest as JSON. */
export function describeValue (value: unknown): string {
  if (typeof value === 'function') return 'a function'
  if (value === undefined) return 'nothing'
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const proto = Object.getPrototypeOf(value) as object | null
    if (proto !== null && proto !== Object.prototype) return `a ${(value.constructor as { name?: string } | undefined)?.name ?? 'object'}`
  }
  try { return JSON.stringify(value) ?? String(value) } catch { return String(value) }
}

export interface IntegerRange {
  /** the least value (default 0) */
  min?: number
  /** the greatest value (default Number.MAX_SAFE_INTEGER) */
  max?: number
  /** also accept a string of digits, as environment variables and the CLI give them */
  strings?: boolean
}

/** The checks of one package; each returns the value (or its default) or throws the package's error. */
export interface OptionChecks {
  /** Throws for `option`; `shown` replaces the value in the message (a secret is never echoed). */
  fail (option: string, expected: string, value: unknown, shown?: string): never
  /** A whole number in a range. */
  integer (option: string, value: unknown, fallback: number, range?: IntegerRange): number
  /** A finite number >= `min` (default 0). */
  number (option: string, value: unknown, fallback: number, min?: number): number
  /** A finite number above 0. */
  positive (option: string, value: unknown, fallback: number): number
  /** A non-empty string. */
  text (option: string, value: unknown, fallback: string): string
  boolean (option: string, value: unknown, fallback: boolean): boolean
  /** One of a list of strings. */
  oneOf<const T extends string> (option: string, value: unknown, fallback: NoInfer<T>, allowed: readonly T[]): T
  /** A plain object (not an array, not null); undefined gives `{}`. */
  object (option: string, value: unknown, expected?: string): Record<string, unknown>
  /** A function, or undefined. */
  optionalFunction<F extends (...args: never[]) => unknown> (option: string, value: unknown, expected?: string): F | undefined
  /**
   * An option renamed: the old name still works, with a one-time
   * DeprecationWarning; both given is an error. Returns the value to use.
   */
  renamed<T> (options: object, oldName: string, newName: string): T | undefined
}

const warned = new Set<string>()

/** The checks for one package, throwing `InvalidOptionError` (made with {@link invalidOptionError}). */
export function optionChecks (InvalidOptionError: InvalidOptionErrorConstructor, plugin: string): OptionChecks {
  function fail (option: string, expected: string, value: unknown, shown?: string): never {
    const got = shown ?? describeValue(value)
    const err = new InvalidOptionError(option, expected, got) as InvalidOption
    Object.assign(err, { option, expected, got })
    throw err
  }
  function number (option: string, value: unknown, fallback: number, min = 0): number {
    if (value === undefined) return fallback
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) fail(option, `a number >= ${min}`, value)
    return value
  }
  return {
    fail,
    integer (option, value, fallback, { min = 0, max = Number.MAX_SAFE_INTEGER, strings = false } = {}) {
      if (value === undefined) return fallback
      const n = strings && typeof value === 'string' && value.trim() !== '' ? Number(value) : value
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
        fail(option, max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`, value)
      }
      return n
    },
    number,
    positive (option, value, fallback) {
      if (value === undefined) return fallback
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(option, 'a number above 0', value)
      return value
    },
    text (option, value, fallback) {
      if (value === undefined) return fallback
      if (typeof value !== 'string' || value.length === 0) fail(option, 'a non-empty string', value)
      return value
    },
    boolean (option, value, fallback) {
      if (value === undefined) return fallback
      if (typeof value !== 'boolean') fail(option, 'true or false', value)
      return value
    },
    oneOf (option, value, fallback, allowed) {
      if (value === undefined) return fallback
      if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
        const list = allowed.map((a) => `'${a}'`)
        fail(option, list.length === 1 ? list[0] : `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`, value)
      }
      return value as typeof fallback
    },
    object (option, value, expected = 'an object') {
      if (value === undefined) return {}
      if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(option, expected, value)
      return value as Record<string, unknown>
    },
    optionalFunction<F> (option: string, value: unknown, expected = 'a function') {
      if (value !== undefined && typeof value !== 'function') fail(option, expected, value)
      return value as F | undefined
    },
    renamed<T> (options: object, oldName: string, newName: string) {
      const o = options as Record<string, unknown>
      if (o[oldName] === undefined) return o[newName] as T | undefined
      if (o[newName] !== undefined) fail(oldName, `left out: it is the old name of "${newName}", which is set too`, o[oldName])
      const key = `${plugin}:${oldName}`
      if (!warned.has(key)) {
        warned.add(key)
        process.emitWarning(`${plugin}: option "${oldName}" is deprecated: use "${newName}"`, { type: 'DeprecationWarning', code: 'CORRAL_DEP_OPTION' })
      }
      return o[oldName] as T
    }
  }
}
