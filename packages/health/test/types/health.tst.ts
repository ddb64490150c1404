import Fastify from 'fastify'
import type { Redis } from 'ioredis'
import { describe, expect, test } from 'tstyche'
import {
  corralHealth,
  eventLoopCheck,
  healthAggregator,
  memoryCheck,
  postgresCheck,
  redisCheck,
  type CheckDefinition,
  type CheckFn,
  type HealthAggregatorOptions,
  type HealthApi,
  type HealthOptions,
  type RunResult
} from '@corral/health'

describe('fastify.health', () => {
  const app = Fastify()

  test('is declared once the package is imported', () => {
    expect(app.health).type.toBe<HealthApi>()
    expect(app.health.check()).type.toBe<Promise<RunResult & { ready: boolean }>>()
    expect(app.health.draining).type.toBe<boolean>()
  })

  test('addCheck takes a check function and its options', () => {
    expect(app.health.addCheck).type.toBeCallableWith('db', async () => ({ status: 'pass' as const }), { critical: false, timeout: 500 })
    expect(app.health.addCheck).type.toBeCallableWith('cheap', () => {})
    expect(app.health.addCheck).type.not.toBeCallableWith('db', 'SELECT 1')
  })
})

describe('options', () => {
  test('checks: functions or definitions, ready-made ones too', () => {
    const checks: Record<string, CheckFn | CheckDefinition> = {
      redis: redisCheck({} as Redis),
      pg: postgresCheck({ query: async () => ({}) }),
      loop: eventLoopCheck({ maxDelay: 200 }),
      memory: memoryCheck({ maxRss: 1 << 30 }),
      custom: async ({ signal }) => { expect(signal).type.toBe<AbortSignal>() }
    }
    expect(Fastify().register).type.toBeCallableWith(corralHealth, { checks })
  })

  test('the interval and prefix options, new names and deprecated ones', () => {
    expect<HealthOptions>().type.toBeAssignableFrom<{ routePrefix: string, checkInterval: number, reportInterval: number, retryAfter: number }>()
    expect<HealthOptions>().type.toBeAssignableFrom<{ prefix: string, cacheMs: number }>()
    expect<HealthOptions>().type.not.toBeAssignableFrom<{ checkInterval: string }>()
    expect<HealthOptions>().type.not.toBeAssignableFrom<{ exposeDetails: boolean }>()
  })

  test('healthAggregator takes a path, staleAfter and retryAfter', () => {
    expect<HealthAggregatorOptions>().type.toBe<{ path?: string, staleAfter?: number, retryAfter?: number }>()
    expect(Fastify().register).type.toBeCallableWith(healthAggregator, { path: '/health', staleAfter: 10_000, retryAfter: 5 })
    expect(Fastify().register).type.not.toBeCallableWith(healthAggregator, { staleAfter: 'soon' })
  })
})
