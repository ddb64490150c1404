// node:cluster by hand: fork WORKERS workers, each serving the app.
import cluster from 'node:cluster'
import { listenAlone } from './hello.mjs'

if (cluster.isPrimary) {
  for (let i = 0; i < Number(process.env.WORKERS); i++) cluster.fork()
  process.once('SIGTERM', () => { for (const w of Object.values(cluster.workers)) w.kill(); process.exit(0) })
} else {
  await listenAlone()
}
