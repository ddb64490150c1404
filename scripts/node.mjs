// Prints the bin directory of a Node.js release of the given major version,
// installing it once from the npm package `node` into .cache/node/<major>
// (the registry the project already installs from; no other download).
// Used by scripts/test.mjs to run the suite on every supported Node version:
//   node scripts/node.mjs 26                 prints /…/.cache/node/26/node_modules/node/bin
//   node scripts/node.mjs 22 -- <command>    runs the command with that Node first on PATH
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')

export function nodeBin (major) {
  if (!/^\d+$/.test(String(major))) throw new Error(`node.mjs: a major version like 26 (got ${major})`)
  if (String(major) === process.versions.node.split('.')[0]) return path.dirname(process.execPath)
  const prefix = path.join(root, '.cache', 'node', String(major))
  const bin = path.join(prefix, 'node_modules', 'node', 'bin')
  if (!existsSync(path.join(bin, 'node'))) {
    mkdirSync(prefix, { recursive: true })
    process.stderr.write(`node.mjs: installing Node ${major} (npm package node@${major}) into ${path.relative(root, prefix)}\n`)
    execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `node@${major}`], { stdio: ['ignore', 'ignore', 'inherit'] })
  }
  const version = execFileSync(path.join(bin, 'node'), ['-v'], { encoding: 'utf8' }).trim()
  if (!version.startsWith(`v${major}.`)) throw new Error(`node.mjs: ${bin}/node is ${version}, not Node ${major}`)
  return bin
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [major, dashes, command, ...args] = process.argv.slice(2)
  const bin = nodeBin(major)
  if (dashes !== '--' || command === undefined) {
    process.stdout.write(`${bin}\n`)
  } else {
    const { status, signal } = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` } })
    process.exit(status ?? (signal === null ? 1 : 128))
  }
}
