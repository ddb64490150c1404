import Fastify, { type FastifyInstance } from 'fastify'
import { describe, expect, test } from 'tstyche'
import {
  boot,
  workerContext,
  type BootOptions,
  type BootResult,
  type ExitInfo,
  type PrimaryBusApi,
  type ReloadResult,
  type SupervisorView,
  type WorkerBus,
  type WorkerContext,
  type WorkerInfo
} from '@corral/cluster-boot'
import { invalidOptionError, optionChecks, type InvalidOption, type OptionChecks } from '@corral/cluster-boot/options'

const app = (worker: WorkerContext): FastifyInstance => {
  const instance = Fastify()
  instance.get('/', async () => ({ slot: worker.slot }))
  return instance
}

describe('boot()', () => {
  test('resolves with a result to narrow on role', () => {
    expect(boot({ app })).type.toBe<Promise<BootResult>>()
    expect<BootResult>().type.toBe<{ role: 'primary', supervisor: SupervisorView } | { role: 'worker', app: FastifyInstance }>()
  })

  test('the supervisor is out of reach until role says primary', async () => {
    const started = await boot({ app })
    expect(started).type.not.toHaveProperty('supervisor')
    if (started.role === 'primary') expect(started.supervisor).type.toBe<SupervisorView>()
    else expect(started.app).type.toBe<FastifyInstance>()
  })

  test('options: app is required, workers takes a count, max or a string from the environment', () => {
    expect(boot).type.not.toBeCallableWith({})
    expect(boot).type.toBeCallableWith({ app, workers: 'max' })
    expect(boot).type.toBeCallableWith({ app, workers: 4, port: '3000', maxMemory: '512M', hangTimeout: false })
    expect(boot).type.not.toBeCallableWith({ app, scheduling: 'random' })
    expect(boot).type.toBeCallableWith({ app, scheduling: 'sticky', sticky: { key: 'ip' } })
    expect(boot).type.toBeCallableWith({ app, admin: { port: 3001, token: 'a-long-enough-token' }, primary: async (admin: FastifyInstance) => { await admin.ready() } })
    expect<BootOptions['admin']>().type.toBe<import('@corral/cluster-boot').AdminOptions | false | undefined>()
  })

  test('the app factory gets the worker and may be async', () => {
    expect(boot).type.toBeCallableWith({ app: async (worker: WorkerContext) => { expect(worker.slot).type.toBe<number>(); return Fastify() } })
    expect(boot).type.not.toBeCallableWith({ app: () => 'not an app' })
  })
})

describe('decorators', () => {
  test('fastify.worker is there only in a worker: optional', () => {
    expect(Fastify().worker).type.toBe<WorkerContext | undefined>()
  })

  test('fastify.supervisor is there only on the admin instance: optional', () => {
    expect(Fastify().supervisor).type.toBe<SupervisorView | undefined>()
  })

  test('workerContext() is null outside a worker', () => {
    expect(workerContext()).type.toBe<WorkerContext | null>()
  })
})

describe('SupervisorView', () => {
  const supervisor = {} as SupervisorView

  test('is read-only', () => {
    expect(supervisor.workers()).type.toBe<WorkerInfo[]>()
    expect<WorkerInfo>().type.toHaveProperty('slot')
    expect<WorkerInfo>().type.not.toHaveProperty('markReady')
    expect<WorkerInfo>().type.not.toHaveProperty('worker')
    expect<SupervisorView>().type.not.toHaveProperty('kill')
    expect<SupervisorView>().type.not.toHaveProperty('start')
    expect(supervisor.reload()).type.toBe<Promise<ReloadResult>>()
  })

  test('events are typed', () => {
    expect(supervisor.on).type.toBeCallableWith('exit', (worker: WorkerInfo, info: ExitInfo) => { expect(info.expected).type.toBe<boolean>() })
    expect(supervisor.on).type.toBeCallableWith('stopped', () => {})
    expect(supervisor.on).type.not.toBeCallableWith('exit', (worker: WorkerInfo, info: string) => { expect(worker).type.toBe<WorkerInfo>() })
    expect(supervisor.on).type.not.toBeCallableWith('no-such-event', () => {})
  })

  test('its bus speaks to WorkerInfos, and has no way in for forged messages', () => {
    expect(supervisor.bus).type.toBe<PrimaryBusApi>()
    expect(supervisor.bus.request<number>({} as WorkerInfo, 'ns')).type.toBe<Promise<number>>()
    expect<PrimaryBusApi>().type.not.toHaveProperty('dispatch')
  })

  test('the worker bus is a type, not a class a user constructs', () => {
    expect<WorkerBus['send']>().type.toBe<(namespace: string, data?: unknown) => boolean>()
  })
})

describe('@corral/cluster-boot/options', () => {
  const InvalidOptionError = invalidOptionError('CORRAL_X_INVALID_OPTION', '@corral/x')
  const check: OptionChecks = optionChecks(InvalidOptionError, '@corral/x')

  test('the error class keeps its code literal and takes option, expected, got', () => {
    expect(new InvalidOptionError('a', 'b', 'c').code).type.toBe<'CORRAL_X_INVALID_OPTION'>()
    expect(InvalidOptionError).type.not.toBeConstructableWith('only-one')
    expect<InvalidOption>().type.toHaveProperty('option')
  })

  test('each check returns the type it checked', () => {
    expect(check.integer('n', 1, 0)).type.toBe<number>()
    expect(check.oneOf('mode', 'a', 'a', ['a', 'b'])).type.toBe<'a' | 'b'>()
    expect(check.fail).type.toBeCallableWith('n', 'a number', 'x')
    expect(check.renamed<string>({}, 'old', 'new')).type.toBe<string | undefined>()
  })
})
