import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface BenchFlowSpec {
  /** Flow name, also its folder: each scenario's processes load only their own flow. */
  name: string;
  /** Healthy destinations: the sink answers 200 at once. */
  destinations: number;
  /** A destination the sink never answers (the isolation run). */
  dead?: boolean;
  /** A destination the sink answers 500 with an error page, with this retry policy (the memory run's failing destination). */
  failing?: { readonly attempts: number; readonly delay: string };
  /** The healthy destinations' ordering: fifo, or by the body's `$.key` (eventBody's key). Default none. */
  ordering?: 'none' | 'fifo' | 'key';
  /** The healthy destinations' concurrency. Default 100. */
  concurrency?: number;
  /** The sink answers the events of this key at the healthy destination of index `destination` only after `delayMs` (a slow key). */
  slowKey?: { readonly key: string; readonly delayMs: number; readonly destination: number };
}

/**
 * BENCH_SIGNING=1: every healthy destination signs its deliveries (Standard Webhooks, one
 * secret), so a run with it beside one without shows what signing costs.
 */
const SIGNING = process.env['BENCH_SIGNING'] === '1' ? ', signing: { type: standard-webhooks, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }' : '';

/** Where the sink sees deliveries of one destination. */
export const destinationPath = (flow: string, destination: string): string => `/d/${flow}/${destination}`;
export const deadPath = (flow: string): string => `/hang/${flow}/dead`;
export const failingPath = (flow: string): string => `/fail/${flow}/failing`;
export const destinationName = (i: number): string => `d${i + 1}`;
/** Where the sink answers the events of `key` after `delayMs` (see Sink); the rest at once. */
export const slowKeyPath = (path: string, { key, delayMs }: { readonly key: string; readonly delayMs: number }): string => `/slow/${delayMs}/${key}${path}`;

const ORDERING_FIELD = { none: '', fifo: ', ordering: fifo', key: ', ordering: { key: $.key }' } as const;

/**
 * Writes `<dir>/<name>/flow.yaml`; returns that folder (FANOUT_FLOWS). Every destination
 * takes 100 deliveries at a time, like the no-op BullMQ worker it is compared with.
 */
export async function writeBenchFlow(dir: string, sinkUrl: string, spec: BenchFlowSpec): Promise<string> {
  const folder = join(dir, spec.name);
  await mkdir(folder, { recursive: true });
  const policy = `${ORDERING_FIELD[spec.ordering ?? 'none']}${spec.concurrency === undefined ? '' : `, concurrency: ${spec.concurrency}`}`;
  const destinations = Array.from({ length: spec.destinations }, (_, i) => {
    const name = destinationName(i);
    const path = destinationPath(spec.name, name);
    return `    - { name: ${name}, type: http, url: "${sinkUrl}${spec.slowKey?.destination === i ? slowKeyPath(path, spec.slowKey) : path}"${policy}${SIGNING} }`;
  });
  if (spec.dead) destinations.push(`    - { name: dead, type: http, url: "${sinkUrl}${deadPath(spec.name)}", concurrency: 10 }`);
  if (spec.failing) {
    const { attempts, delay } = spec.failing;
    destinations.push(`    - { name: failing, type: http, url: "${sinkUrl}${failingPath(spec.name)}", retry: { attempts: ${attempts}, backoff: { type: fixed, delay: ${delay}, jitter: none } } }`);
  }
  const yaml = [
    'apiVersion: fanout.dev/v1',
    'kind: DeliveryFlow',
    'metadata:',
    `  name: ${spec.name}`,
    'spec:',
    '  source: { maxBodyBytes: 1mb }',
    '  defaults:',
    '    timeout: 10s',
    '    retry: { attempts: 3, backoff: { type: exponential, delay: 1s, maxDelay: 10s, jitter: full } }',
    '    concurrency: 100',
    '  destinations:',
    ...destinations,
    '',
  ].join('\n');
  await writeFile(join(folder, 'flow.yaml'), yaml);
  return folder;
}
