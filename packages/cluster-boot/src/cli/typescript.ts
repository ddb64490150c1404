import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { TypeScriptUnavailableError } from '../errors.js'

function nodeStrips (version = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number)
  return major > 22 || (major === 22 && minor >= 6)
}

/**
 * The execArgv the workers need to import a TypeScript entry: none when
 * Node strips types already, tsx (from the app's dependencies, else
 * Corral's) when installed, else Node's own stripping flag where it exists.
 * The primary never imports the entry: only workers need it.
 */
export function typeScriptExecArgv (entry: string, execArgv = process.execArgv): string[] {
  if (!/\.[cm]?ts$/.test(entry)) return []
  if ((process.features as { typescript?: unknown }).typescript) return []
  for (const base of [entry, import.meta.url]) {
    try {
      const loader = createRequire(base).resolve('tsx')
      return ['--import', pathToFileURL(loader).href]
    } catch {}
  }
  if (nodeStrips()) return execArgv.includes('--experimental-strip-types') ? [] : ['--experimental-strip-types']
  throw new TypeScriptUnavailableError(entry, process.versions.node)
}
