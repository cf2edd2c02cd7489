import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type DeliveryOutcome = 'delivered' | 'retry' | 'dead';

/** Counts of one destination queue, as the queue-depth gauge reports them. */
export interface QueueDepth {
  readonly flow: string;
  readonly destination: string;
  readonly waiting: number;
  readonly delayed: number;
  readonly active: number;
  readonly failed: number;
}

export interface FanoutMetrics {
  readonly registry: Registry;
  /** `fanout_events_accepted_total{flow}` */
  readonly eventsAccepted: Counter<'flow'>;
  /** `fanout_deliveries_total{flow,destination,outcome}`: one per attempt outcome, plus `filtered` at dispatch. */
  readonly deliveries: Counter<'flow' | 'destination' | 'outcome'>;
  /** `fanout_attempt_duration_seconds{flow,destination,outcome}` */
  readonly attemptDuration: Histogram<'flow' | 'destination' | 'outcome'>;
  /** `fanout_dispatched_jobs_total{flow,destination}` */
  readonly dispatchedJobs: Counter<'flow' | 'destination'>;
  /** `fanout_record_retries_total{flow,destination}`: tries again of a delivery's record write that Redis refused (full, away). */
  readonly recordRetries: Counter<'flow' | 'destination'>;
  /** `fanout_flow_reloads_total{outcome}`: reloads of the flow files, by outcome (applied, unchanged, refused, failed). */
  readonly flowReloads: Counter<'outcome'>;
  /** `fanout_flow_info{flow,version}`: 1 for each flow version in force in this process. */
  readonly flowInfo: Gauge<'flow' | 'version'>;
  /** Makes `fanout_queue_jobs{flow,destination,state}` report what `read` returns at each scrape. */
  observeQueueDepth(read: () => Promise<readonly QueueDepth[]>): void;
}

/** The process's metrics in a registry of its own (no prom-client global), default Node metrics included. */
export function createMetrics(): FanoutMetrics {
  const registry = new Registry();
  // prom-client's own names already start with process_ or nodejs_: fanout_process_cpu_seconds_total, fanout_nodejs_heap_size_used_bytes.
  collectDefaultMetrics({ register: registry, prefix: 'fanout_' });
  let readDepths: (() => Promise<readonly QueueDepth[]>) | undefined;

  new Gauge({
    name: 'fanout_queue_jobs',
    help: 'Delivery jobs per destination queue by state (waiting, delayed, active, failed = dead letters).',
    labelNames: ['flow', 'destination', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      if (!readDepths) return;
      for (const depth of await readDepths()) {
        for (const state of ['waiting', 'delayed', 'active', 'failed'] as const) {
          this.set({ flow: depth.flow, destination: depth.destination, state }, depth[state]);
        }
      }
    },
  });

  return {
    registry,
    eventsAccepted: new Counter({ name: 'fanout_events_accepted_total', help: 'Events accepted (answered 202) by flow.', labelNames: ['flow'], registers: [registry] }),
    deliveries: new Counter({
      name: 'fanout_deliveries_total',
      help: 'Delivery attempt outcomes (delivered, retry, dead) and filtered deliveries, by flow and destination.',
      labelNames: ['flow', 'destination', 'outcome'],
      registers: [registry],
    }),
    attemptDuration: new Histogram({
      name: 'fanout_attempt_duration_seconds',
      help: 'Duration of delivery attempts.',
      labelNames: ['flow', 'destination', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    dispatchedJobs: new Counter({ name: 'fanout_dispatched_jobs_total', help: 'Delivery jobs created by the dispatcher.', labelNames: ['flow', 'destination'], registers: [registry] }),
    recordRetries: new Counter({
      name: 'fanout_record_retries_total',
      help: "Delivery record writes tried again because Redis refused them (out of memory, unreachable): the write is retried, never the send.",
      labelNames: ['flow', 'destination'],
      registers: [registry],
    }),
    flowReloads: new Counter({
      name: 'fanout_flow_reloads_total',
      help: 'Reloads of the flow files (a change seen, or SIGHUP) by outcome: applied, unchanged, refused (a file that does not load), failed (not applied, tried again).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    flowInfo: new Gauge({ name: 'fanout_flow_info', help: 'The flow versions in force in this process (1 each): what a reload put in force.', labelNames: ['flow', 'version'], registers: [registry] }),
    observeQueueDepth(read) {
      readDepths = read;
    },
  };
}
