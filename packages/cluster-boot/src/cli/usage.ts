/** Every verb, for the unknown-command line. */
export const VERBS = 'start, list, status, describe, reload, restart, stop, scale, logs, monit, startup'

export const USAGE = `Usage: corral start [<app.js|app.ts|config file>] [options]
       corral list|status [<name>] [--json]   workers of the running apps: CPU, memory, req/s
       corral describe [<name>] [--json]      an app's slots, restarts, reloads and workers
       corral reload|restart [<name>]         rolling reload, zero downtime
       corral stop [<name>]                   drain every worker and stop the primary
       corral scale [<name>] <n|+n|-n|max>    add or remove workers at run time
       corral monit [<name>] [--interval ms]  live view of every worker; q quits
       corral logs <name> [--lines N] [--slot N] [--json] [--dir <dir>]
                                              last lines of the app's log files, then follows
       corral startup systemd [<app|config>] [start options]   print a systemd unit
  The control verbs find the apps \`corral start\` runs (registered in CORRAL_HOME,
  default ~/.corral, owner-only); a name picks one when several run. Or name an
  admin server: --admin-port <port> or env ADMIN_PORT, --admin-host <host>,
  --token <token> or env CORRAL_ADMIN_TOKEN.

The app module's default export (or its export "app") is a function that
returns a Fastify instance. One worker per slot serves it on a shared port.
With no file, \`corral start\` reads corral.config.{js,mjs,cjs,json}, else a
PM2 ecosystem.config.js, in the current directory; several apps in one file
get one primary each.

Start options (over the config file's values):
  -c, --config <file>       the config file
      --env <profile>       use the env_<profile> block of each app, e.g. production
      --only <name>         start only this app of the config file
  -n, --name <name>         app name: process titles "corral primary <name>", "corral worker <name> <slot>"
  -i, --instances <n|max>   workers (default: env WORKERS, else max)
  -p, --port <port>         port (default: env PORT, else 3000)
      --host <host>         interface (default: env HOST, else 127.0.0.1)
      --max-memory <size>   replace a worker above this RSS, e.g. 512M
      --kill-timeout <ms>   drain time before SIGKILL (default 10000)
      --ready-timeout <ms>  time to become ready (default 15000)
      --max-restarts <n>    crashes in a row before backing off to the longest delay (default 10)
      --restart-delay <ms>  first respawn delay, doubled per crash in a row (default 100)
      --scheduling <mode>   auto | rr | none | reuseport | sticky (default auto: none, or reuseport where tcp_migrate_req=1)
      --admin-port <port>   the primary's admin server (default: env ADMIN_PORT, else a free
                            loopback port with a generated token); its token from CORRAL_ADMIN_TOKEN
      --no-parent-watch     keep running when the process that started corral exits (default: drain and stop)
  -h, --help

Signals to the primary: SIGHUP reloads with zero downtime, SIGTERM/SIGINT
stop. Prefer CORRAL_ADMIN_TOKEN to --token: arguments show in ps.`
