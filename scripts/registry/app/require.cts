// Type-checks a CommonJS TypeScript module requiring the ESM-only packages:
// TypeScript >= 5.8 under `module: nodenext` types require(esm) as Node runs it.
import cb = require('@corral/cluster-boot')
import health = require('@corral/health')
import metrics = require('@corral/metrics')
import session = require('@corral/redis-session')

export const plugins = [health.corralHealth, metrics.corralMetrics, session.redisSession] as const
export const boot: typeof cb.boot = cb.boot
