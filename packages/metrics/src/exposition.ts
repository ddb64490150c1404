import { Registry, openMetricsContentType, prometheusContentType, type Aggregator, type RegistryContentType } from 'prom-client'

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
 * prom-client's own formatter, one metric at a time: a Registry keeps its
 * metrics in a plain object keyed by name, where a family a worker called
 * `constructor` or `__proto__` would throw or vanish. Names are not changed
 * in place either (prom-client renames a live counter for OpenMetrics,
 * `foo_total` becoming `foo` for good).
 */
export async function render (metrics: Iterable<MetricJSON>, contentType: ContentType): Promise<string> {
  const formatter = new Registry<ContentType>()
  formatter.setContentType(contentType)
  const format = formatter as unknown as { getMetricsAsString (m: { get (): MetricJSON }): Promise<string> }
  const openMetrics = contentType === openMetricsContentType
  const parts: Array<Promise<string>> = []
  for (const metric of metrics) {
    const name = openMetrics && metric.type === 'counter' ? metric.name.replace(/_total$/, '') : metric.name
    parts.push(format.getMetricsAsString({ get: () => ({ ...metric, name }) }))
  }
  const texts = await Promise.all(parts)
  return openMetrics ? `${texts.join('\n')}\n# EOF\n` : `${texts.join('\n\n')}\n`
}
