import Fastify from 'fastify'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { describe, expect, test } from 'tstyche'
import {
  corralMetrics,
  metricsAggregator,
  type AggregatorOptions,
  type MetricsAggregatorApi,
  type MetricsApi,
  type MetricsOptions,
  type WireSnapshot
} from '@corral/metrics'

describe('decorators', () => {
  const app = Fastify()

  test('fastify.metrics is declared once the package is imported', () => {
    expect(app.metrics).type.toBe<MetricsApi>()
    expect(app.metrics.counter({ name: 'jobs_total', help: 'Jobs.', labelNames: ['queue'] as const })).type.toBe<Counter<'queue'>>()
    expect(app.metrics.gauge({ name: 'queue_depth', help: 'Depth.' })).type.toBe<Gauge<string>>()
    expect(app.metrics.histogram({ name: 'job_seconds', help: 'Job time.' })).type.toBe<Histogram<string>>()
    expect(app.metrics.snapshot()).type.toBe<Promise<WireSnapshot>>()
  })

  test('admin.metricsAggregator is there only on the admin instance: optional', () => {
    expect(app.metricsAggregator).type.toBe<MetricsAggregatorApi | undefined>()
  })
})

describe('options', () => {
  test('the worker plugin: pushInterval (interval deprecated), endpoint, exclusions, a registry of your own', () => {
    expect<MetricsOptions>().type.toBeAssignableFrom<{ pushInterval: number, endpoint: false, exclude: string[], registry: Registry }>()
    expect<MetricsOptions>().type.toBeAssignableFrom<{ interval: number }>()
    expect<MetricsOptions>().type.toBeAssignableFrom<{ exclude: (request: import('fastify').FastifyRequest) => boolean }>()
    expect<MetricsOptions>().type.not.toBeAssignableFrom<{ pushInterval: string }>()
    expect(Fastify().register).type.toBeCallableWith(corralMetrics, { defaultMetrics: { prefix: 'app_' }, buckets: [0.01, 0.1, 1] })
  })

  test('the aggregator', () => {
    expect<AggregatorOptions>().type.toBeAssignableFrom<{ endpoint: string, workersEndpoint: false, dashboard: false, health: false, perWorker: boolean }>()
    expect(Fastify().register).type.toBeCallableWith(metricsAggregator, { perWorker: true, maxSeries: 1000 })
    expect(Fastify().register).type.not.toBeCallableWith(metricsAggregator, { perWorker: 'yes' })
  })
})
