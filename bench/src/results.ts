import type { NodeBinary } from './node-binaries.js';
import type { DeliveryResults } from './scenarios/delivery.js';
import type { DestinationsResults } from './scenarios/destinations.js';
import type { FanoutRun } from './scenarios/fanout.js';
import type { IngestResults } from './scenarios/ingest.js';
import type { LatencyRun, RssReading } from './scenarios/latency.js';
import type { MemoryResults } from './scenarios/memory.js';
import type { OrderingResults } from './scenarios/ordering.js';
import type { PipelineResults } from './scenarios/pipeline.js';
import type { Sizing } from './sizing.js';

/** Everything one bench run measured under one Node; the JSON file holds one per Node. */
export interface NodeResults {
  readonly node: NodeBinary;
  ingest?: IngestResults;
  fanout?: FanoutRun[];
  delivery?: DeliveryResults;
  /** The rate the latency percentages are of: the lower of the ingest maximum and half the delivery maximum (events/s). */
  maxEventsPerSecond?: number;
  latency?: LatencyRun[];
  /** Runs without and with the dead destination, alternated: a single run's p99 moves more between runs than the target allows. */
  isolation?: { readonly without: readonly LatencyRun[]; readonly with: readonly LatencyRun[] };
  memory?: MemoryResults;
  /** Redis needed by issue 8's deployment at the defaults, projected from `memory`. */
  sizing?: Sizing;
  pipeline?: PipelineResults;
  rss?: RssReading[];
  /** s3 (batched and per event), amqp and nats: fanout's workers against each client library alone. */
  destinations?: DestinationsResults;
  /** fifo against its round-trip bound, keyed against none, a slow key against the other keys' latency. */
  ordering?: OrderingResults;
}

export interface BenchRun {
  readonly startedAt: string;
  readonly command: string;
  readonly machine: { readonly cpus: string; readonly cores: number; readonly memory: string; readonly os: string; readonly loadAverage: readonly number[] };
  readonly redis: string;
  readonly quick: boolean;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly benchNode: string;
  readonly seconds: number;
  readonly nodes: NodeResults[];
}
