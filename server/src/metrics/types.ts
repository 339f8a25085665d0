/** Shapes of the metrics snapshot (the `metrics.tick` event and GET /api/metrics.json): the contract's. */
export type { MetricsSnapshot, ProcessMetrics, SystemMetrics } from '../contract/index.js';
