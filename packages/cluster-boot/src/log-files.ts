import os from 'node:os'
import path from 'node:path'

/** Where log files go when `logs.dir` is not given: one place per user, so `corral logs <name>` finds them from any directory. */
export function defaultLogDir (env: NodeJS.ProcessEnv = process.env): string {
  const home = env.CORRAL_HOME !== undefined && env.CORRAL_HOME !== '' ? env.CORRAL_HOME : path.join(os.homedir(), '.corral')
  return path.join(home, 'logs')
}

/** `<dir>/<app>.log`, the file being written. */
export function currentLogFile (dir: string, app: string): string {
  return path.join(dir, `${app}.log`)
}

/** `<dir>/<app>.log.<n>`, the n-th newest rotated file (logrotate's classic naming). */
export function rotatedLogFile (dir: string, app: string, n: number): string {
  return path.join(dir, `${app}.log.${n}`)
}

/**
 * The app name the logs are filed under: `corral start --name` (CORRAL_NAME),
 * else the main script's name (`server` for `node dist/server.js`), else 'app'.
 */
export function appName (env: NodeJS.ProcessEnv = process.env, script = process.argv[1]): string {
  const name = env.CORRAL_NAME !== undefined && env.CORRAL_NAME !== '' ? env.CORRAL_NAME : path.basename(script ?? '').replace(/\.[cm]?[jt]s$/, '')
  // a name goes into a file name: nothing that climbs out of the directory
  const safe = name.replace(/[^\w.-]/g, '_').replace(/^\.+/, '')
  return safe === '' ? 'app' : safe
}
