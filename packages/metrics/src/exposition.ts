import { Registry, openMetricsContentType, prometheusContentType, type Aggregator, type Metric, type RegistryContentType } from 'prom-client'

export type MetricKind = 'counter' | 'gauge' | 'histogram' | 'summary'

/** One sample of a metric, as prom-client's `getMetricsAsJSON()` gives it. */
export interface SampleJSON {
  value: number
  labels: Record<string, string | number>
  /** `<name>_bucket`, `_sum`, `_count` for histograms and summaries */
  metricName?: string
}

/** One metric, as prom-client's `getMetricsAsJSON()` gives it (its typings say otherwise). */
export interface MetricJSON {
  name: string
  help: string
  type: MetricKind
  aggregator: Aggregator
  values: SampleJSON[]
}

export type ContentType = RegistryContentType

/**
 * Prometheus text unless the scraper prefers OpenMetrics (Prometheus itself
 * asks for both, OpenMetrics first): the media type with the higher q wins.
 */
export function negotiate (accept: string | undefined): ContentType {
  if (accept === undefined || !accept.includes('openmetrics')) return prometheusContentType
  let openMetrics = -1
  let text = -1
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase())
    const qParam = params.find((p) => p.startsWith('q='))
    const q = qParam === undefined ? 1 : Number(qParam.slice(2))
    if (type === 'application/openmetrics-text') openMetrics = Math.max(openMetrics, q)
    else if (type === 'text/plain' || type === '*/*' || type === 'text/*') text = Math.max(text, q)
  }
  return openMetrics > 0 && openMetrics >= text ? openMetricsContentType : prometheusContentType
}

/**
 * Renders metric objects in the exposition format of `contentType`, with
 * prom-client's own formatter. A fresh registry of wrappers every time:
 * prom-client renames a live counter in place when it formats OpenMetrics
 * (`foo_total` becomes `foo` for good), which would corrupt later Prometheus
 * scrapes and the snapshots pushed to the primary.
 */
export function render (metrics: Iterable<MetricJSON>, contentType: ContentType): Promise<string> {
  const registry = new Registry<ContentType>()
  registry.setContentType(contentType)
  for (const metric of metrics) {
    const wrapper = {
      name: metric.name,
      help: metric.help,
      type: metric.type,
      aggregator: metric.aggregator,
      get: () => ({ ...metric, name: wrapper.name })
    }
    registry.registerMetric(wrapper as unknown as Metric)
  }
  return registry.metrics()
}
