// examples/deploy: the Kubernetes snippet parses and its numbers agree with cluster-boot's defaults.
import { readFileSync } from 'node:fs'
import { test } from 'tap'
import { parseAllDocuments } from 'yaml'
// the defaults as resolved: only visible below the entry point
import { resolveOptions } from '../dist/options.js'

const deploy = new URL('../../../examples/deploy/', import.meta.url)
const read = (name: string): string => readFileSync(new URL(name, deploy), 'utf8')
// what the primary needs after killTimeout to close its admin server and exit: the same margin `corral startup systemd` adds
const STOP_MARGIN_SECONDS = 5

interface Container {
  name: string
  ports: Array<{ name: string, containerPort: number }>
  env: Array<{ name: string, value?: string, valueFrom?: { resourceFieldRef?: { resource: string, divisor: string } } }>
  readinessProbe: { httpGet: { path: string, port: string | number } }
  livenessProbe: { httpGet: { path: string, port: string | number } }
  lifecycle: { preStop: { exec: { command: string[] } } }
}

function manifests (): Array<{ kind: string, spec: any }> {
  const docs = parseAllDocuments(read('k8s.yaml'))
  for (const doc of docs) if (doc.errors.length > 0) throw doc.errors[0]
  return docs.map((d) => d.toJS())
}

test('k8s.yaml parses into a Deployment and a Service', async (t) => {
  t.same(manifests().map((m) => m.kind), ['Deployment', 'Service'])
})

test('the grace period covers preStop, killTimeout and the primary\'s exit; shutdownDelay fits in killTimeout', async (t) => {
  const { killTimeout } = resolveOptions({ app: () => { throw new Error('not called') } }, {})
  const pod = manifests()[0].spec.template.spec
  const app: Container = pod.containers[0]
  const [sleep, seconds] = app.lifecycle.preStop.exec.command
  t.equal(sleep, 'sleep')
  const preStop = Number(seconds)
  t.ok(preStop > 0, 'a preStop pause while the endpoint removal propagates')
  t.ok(pod.terminationGracePeriodSeconds >= preStop + killTimeout / 1000 + STOP_MARGIN_SECONDS,
    `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} >= preStop ${preStop} + killTimeout ${killTimeout / 1000} + ${STOP_MARGIN_SECONDS}`)
  const shutdownDelay = Number(app.env.find((e) => e.name === 'SHUTDOWN_DELAY')?.value)
  t.ok(shutdownDelay >= 0 && shutdownDelay < killTimeout, `SHUTDOWN_DELAY ${shutdownDelay} ms runs inside killTimeout ${killTimeout} ms`)
  t.match(read('README.md'), `| \`killTimeout\` (cluster-boot) | ${killTimeout} ms (the default)`, 'the README states the default in code')
  t.match(read('README.md'), `| \`terminationGracePeriodSeconds\` | ${pod.terminationGracePeriodSeconds} |`)
})

test('probes: readiness on /health/ready, liveness on /health/live, on the port the app listens on', async (t) => {
  const [deployment, service] = manifests()
  const app: Container = deployment.spec.template.spec.containers[0]
  t.equal(app.readinessProbe.httpGet.path, '/health/ready')
  t.equal(app.livenessProbe.httpGet.path, '/health/live')
  const http = app.ports.find((p) => p.name === app.readinessProbe.httpGet.port)
  t.ok(http, 'the probes name the container port')
  t.equal(app.livenessProbe.httpGet.port, http?.name)
  t.equal(String(http?.containerPort), app.env.find((e) => e.name === 'PORT')?.value, 'PORT is the container port')
  t.equal(service.spec.ports[0].targetPort, http?.name, 'the Service sends traffic there')
  t.match(read('Dockerfile'), new RegExp(`\\bPORT=${http?.containerPort}\\b`), 'the image\'s default PORT too')
  t.match(read('Dockerfile'), /EXPOSE 3000\n/)
})

test('one primary per pod with a worker per CPU of its limit', async (t) => {
  const app: Container = manifests()[0].spec.template.spec.containers[0]
  const workers = app.env.find((e) => e.name === 'WORKERS')
  t.same(workers?.valueFrom?.resourceFieldRef, { containerName: 'app', resource: 'limits.cpu', divisor: '1' })
  t.equal(app.name, 'app')
})

test('the image runs node under tini, in exec form, so SIGTERM reaches the primary', async (t) => {
  const dockerfile = read('Dockerfile')
  t.match(dockerfile, /^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m)
  t.match(dockerfile, /^CMD \["node", "dist\/server\.js"\]$/m)
  t.notMatch(dockerfile, /^CMD .*npm/m, 'not npm start: npm does not pass SIGTERM on')
})
