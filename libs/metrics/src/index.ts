export { Metrics, servePrimaryMetrics } from './metrics.js';
export { MetricsModule } from './metrics.module.js';
