// The hello-world app every throughput contender serves.
import Fastify from 'fastify'

export default function hello () {
  const app = Fastify()
  app.get('/', async () => ({ hello: 'world' }))
  // which worker answered: for the spread of connections over workers
  app.get('/pid', async () => ({ pid: process.pid }))
  return app
}

/** Listens on PORT and closes gracefully on SIGINT/SIGTERM, as PM2's docs recommend. */
export async function listenAlone (app = hello()) {
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
  const close = () => app.close().then(() => process.exit(0))
  process.once('SIGINT', close)
  process.once('SIGTERM', close)
  process.send?.('ready')
  return app
}
