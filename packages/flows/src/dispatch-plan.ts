import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DESTINATION_TYPES, type Destination, type Flow } from './flow.js';

/**
 * What dispatching an event of a flow needs to know of each destination: which destinations
 * there are, their filters, their ordering (which line a delivery joins), and what their
 * jobs' options come from. No URL, header or secret: the workers deliver with their own
 * destination's settings.
 */
export type PlannedDestination = Pick<Destination, 'name' | 'type' | 'filter' | 'ordering' | 'retry' | 'deadLetter'>;

/**
 * A flow as the dispatcher routes by it, under its version: a hash of the plan, so two
 * processes that load the same flow agree on its version, and an event is dispatched by the
 * plan of the flow version that accepted it, whichever process dispatches it.
 */
export interface DispatchPlan {
  readonly flow: string;
  /** 12 hex digits of the SHA-256 of the plan's canonical JSON. */
  readonly version: string;
  readonly destinations: readonly PlannedDestination[];
}

/** The plan's fields in a fixed order, so equal plans serialise, and hash, alike. */
function canonical(flow: string, destinations: readonly PlannedDestination[]): string {
  return JSON.stringify({
    flow,
    destinations: destinations.map(({ name, type, filter, ordering, retry, deadLetter }) => ({
      name,
      type,
      ...(filter ? { filter: { eventTypes: filter.eventTypes, path: filter.path } } : {}),
      ordering: typeof ordering === 'object' ? { key: ordering.key } : ordering,
      retry: { attempts: retry.attempts, backoff: { type: retry.backoff.type, delayMs: retry.backoff.delayMs, maxDelayMs: retry.backoff.maxDelayMs, jitter: retry.backoff.jitter } },
      deadLetter: { retentionMs: deadLetter.retentionMs },
    })),
  });
}

export function dispatchPlanOf(flow: Pick<Flow, 'name' | 'destinations'>): DispatchPlan {
  const text = canonical(flow.name, flow.destinations);
  return { ...(JSON.parse(text) as Omit<DispatchPlan, 'version'>), version: createHash('sha256').update(text).digest('hex').slice(0, 12) };
}

const plannedDestination = z.object({
  name: z.string().min(1),
  type: z.enum(DESTINATION_TYPES),
  filter: z.object({ eventTypes: z.array(z.string()), path: z.array(z.string()) }).optional(),
  ordering: z.union([z.enum(['none', 'fifo']), z.object({ key: z.array(z.string()) })]),
  retry: z.object({
    attempts: z.number().int().min(1),
    backoff: z.object({ type: z.enum(['fixed', 'exponential']), delayMs: z.number(), maxDelayMs: z.number(), jitter: z.enum(['full', 'none']) }),
  }),
  deadLetter: z.object({ retentionMs: z.number() }),
});

/** A plan as another process stored it (JSON), checked as it is read. */
export const dispatchPlanSchema = z.object({ flow: z.string().min(1), version: z.string().min(1), destinations: z.array(plannedDestination) });

/** The plan in the form it is stored and shared in. */
export function encodeDispatchPlan(plan: DispatchPlan): string {
  return JSON.stringify(plan);
}

export function decodeDispatchPlan(text: string): DispatchPlan {
  const parsed = dispatchPlanSchema.parse(JSON.parse(text));
  return { ...parsed, destinations: parsed.destinations.map(({ filter, ...rest }) => ({ ...rest, ...(filter ? { filter } : {}) })) };
}
