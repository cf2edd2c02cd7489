import { writeFile } from 'node:fs/promises';

/** One destination of the scenario's flow; every one points at the recording receiver. */
export interface DestinationSpec {
  readonly name: string;
  /** Delivered only events of these types (`filter.eventTypes`); absent: every event. */
  readonly eventTypes?: readonly string[];
  /** Total attempts, the first included. */
  readonly attempts: number;
  /** Per attempt, ms. The worker's lock is max(30 s, 2 × timeout), so keep it short. */
  readonly timeoutMs: number;
  /** First retry delay, ms (exponential, full jitter). */
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
  readonly concurrency: number;
  /** Its `circuitBreaker` (consecutiveFailures); absent: none. */
  readonly circuitBreaker?: { readonly consecutiveFailures: number; readonly cooldownMs: number; readonly redrive: boolean };
  /** `fifo`, or `key`: ordered by the body's `$.key` (the load's `keyOf`). Absent: `ordering: none`. */
  readonly ordering?: 'fifo' | 'key';
  /**
   * Where it delivers, when not to the recording receiver: the YAML fields after `name`
   * (`type: s3`, `bucket: …`, one field per line). Absent: `type: http` to the receiver.
   */
  readonly target?: readonly string[];
}

/** One DeliveryFlow of a scenario: its name and destinations. */
export interface FlowSpec {
  readonly name: string;
  readonly destinations: readonly DestinationSpec[];
}

/** Whether an event of `type` is meant for this destination. */
export function matches(destination: DestinationSpec, type: string): boolean {
  return destination.eventTypes === undefined || destination.eventTypes.includes(type);
}

/** Writes the DeliveryFlows a group of the scenario's processes loads, one document each. */
export async function writeFlowFile(path: string, flows: readonly FlowSpec[], urlOf: (destination: string) => string): Promise<void> {
  await writeFile(path, flows.map((flow) => flowDocument(flow, urlOf)).join('---\n'));
}

/** The files of a flow folder (a ConfigMap's keys): `<flow>.yaml` per flow, one document each. */
export function flowFolderFiles(flows: readonly FlowSpec[], urlOf: (destination: string) => string): Record<string, string> {
  return Object.fromEntries(flows.map((flow) => [`${flow.name}.yaml`, flowDocument(flow, urlOf)]));
}

function flowDocument({ name, destinations }: FlowSpec, urlOf: (destination: string) => string): string {
  const lines = [
    'apiVersion: fanout.dev/v1',
    'kind: DeliveryFlow',
    `metadata: { name: ${name} }`,
    'spec:',
    '  source: { maxBodyBytes: 64kb }',
    '  destinations:',
  ];
  for (const destination of destinations) {
    lines.push(
      `    - name: ${destination.name}`,
      ...(destination.target ? destination.target.map((line) => `      ${line}`) : ['      type: http', `      url: "${urlOf(destination.name)}"`]),
      `      timeout: ${destination.timeoutMs}ms`,
      `      concurrency: ${destination.concurrency}`,
      `      retry: { attempts: ${destination.attempts}, backoff: { type: exponential, delay: ${destination.retryDelayMs}ms, maxDelay: ${destination.maxRetryDelayMs}ms, jitter: full } }`,
    );
    if (destination.ordering) lines.push(`      ordering: ${destination.ordering === 'fifo' ? 'fifo' : '{ key: $.key }'}`);
    if (destination.eventTypes) lines.push(`      filter: { eventTypes: [${destination.eventTypes.join(', ')}] }`);
    const breaker = destination.circuitBreaker;
    if (breaker) lines.push(`      circuitBreaker: { consecutiveFailures: ${breaker.consecutiveFailures}, cooldown: ${breaker.cooldownMs}ms, redrive: ${breaker.redrive} }`);
  }
  return `${lines.join('\n')}\n`;
}
