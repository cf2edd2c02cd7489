import type { FanoutKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import { decodeDispatchPlan, dispatchPlanOf, encodeDispatchPlan, type DispatchPlan } from './dispatch-plan.js';
import type { Flow } from './flow.js';

/**
 * How processes agree on flows: every process publishes the dispatch plan of each flow
 * version it loaded, before it takes a webhook; a dispatcher that meets an event of a
 * version it did not load (a rolling deploy: old and new processes side by side) reads that
 * version's plan here. An event is thus dispatched to the destinations of the flow version
 * that accepted it, whichever process dispatches it.
 *
 * @param ttlMs How long a plan is kept after its last publication (the event retention: no
 *   event of it is dispatched later than that). Processes publish again while they run.
 */
export async function publishFlowPlans(redis: Redis, keys: FanoutKeys, flows: readonly Flow[], ttlMs: number): Promise<void> {
  const pipeline = redis.pipeline();
  for (const flow of flows) pipeline.set(keys.flowPlan(flow.name, flow.version), encodeDispatchPlan(dispatchPlanOf(flow)), 'PX', ttlMs);
  const failure = (await pipeline.exec())?.find(([error]) => error)?.[0];
  if (failure) throw failure;
}

/** A flow version as an event names it. */
export interface FlowVersionRef {
  readonly flow: string;
  readonly version: string;
}

/** The published plans of these flow versions (one round trip), by `<flow>:<version>`; missing ones are absent. */
export async function readFlowPlans(redis: Redis, keys: FanoutKeys, refs: readonly FlowVersionRef[]): Promise<Map<string, DispatchPlan>> {
  if (refs.length === 0) return new Map();
  const texts = await redis.mget(...refs.map(({ flow, version }) => keys.flowPlan(flow, version)));
  const plans = new Map<string, DispatchPlan>();
  refs.forEach(({ flow, version }, i) => {
    const text = texts[i];
    if (text) plans.set(`${flow}:${version}`, decodeDispatchPlan(text));
  });
  return plans;
}
