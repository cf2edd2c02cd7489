export { PAYLOAD_GONE, type DeliveryMetrics } from './deliver.js';
export { LINE_SWEEP, type LineSweepOptions } from './line-sweep.js';
export { HANDBACK_MS, RETIRE, startWorkers, type DeliveryWorkers, type RetireOptions, type WorkerDeps } from './start-workers.js';
export { settlesWithin } from './settles-within.js';
export { MAX_STALLED_COUNT, ORDERED_STALL, type StallOptions } from './worker-options.js';
