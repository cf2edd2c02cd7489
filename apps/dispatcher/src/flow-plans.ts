import type { EventEntry, StreamEvent } from '@fanout/event-log';
import { dispatchPlanOf, readFlowPlans, type DispatchPlan, type Flow, type FlowVersionRef } from '@fanout/flows';
import type { FanoutKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';

/** Looks a loaded flow up by name; undefined once the flow is no longer loaded. */
export type FindFlow = (name: string) => Flow | undefined;

/** The dispatch plan of each event: the flow version that accepted it. */
export interface FlowPlans {
  /** Reads, in one round trip, the published plans of the events' flow versions this process did not load. */
  prepare(events: readonly StreamEvent[]): Promise<void>;
  /**
   * The plan that dispatches this event: its flow version's, loaded here or published by the
   * process that accepted it (see prepare). An entry written before flows had versions is
   * dispatched by the flow loaded here. Undefined when the version is known nowhere.
   */
  planFor(entry: EventEntry): DispatchPlan | undefined;
}

export interface FlowPlansDeps {
  readonly findFlow: FindFlow;
  /** Where the published plans are read (any connection). */
  readonly redis: Redis;
  readonly keys: FanoutKeys;
}

const refKey = ({ flow, version }: FlowVersionRef): string => `${flow}:${version}`;

/**
 * Plans are immutable (a version is a hash of its plan), so each is read from Redis once per
 * process and kept: a rolling deploy makes a handful of versions, not an unbounded number.
 */
export function flowPlans({ findFlow, redis, keys }: FlowPlansDeps): FlowPlans {
  const known = new Map<string, DispatchPlan>();
  const localPlan = (name: string, version?: string): DispatchPlan | undefined => {
    const flow = findFlow(name);
    if (!flow || (version !== undefined && flow.version !== version)) return undefined;
    const key = refKey({ flow: name, version: flow.version });
    let plan = known.get(key);
    if (!plan) known.set(key, (plan = dispatchPlanOf(flow)));
    return plan;
  };
  return {
    async prepare(events) {
      const missing = new Map<string, FlowVersionRef>();
      for (const { entry } of events) {
        const { flow, flowVersion: version } = entry;
        if (version === undefined) continue;
        const ref = { flow, version };
        if (!known.has(refKey(ref)) && !localPlan(flow, version)) missing.set(refKey(ref), ref);
      }
      for (const [key, plan] of await readFlowPlans(redis, keys, [...missing.values()])) known.set(key, plan);
    },
    planFor({ flow, flowVersion }) {
      if (flowVersion === undefined) return localPlan(flow);
      return known.get(refKey({ flow, version: flowVersion })) ?? localPlan(flow, flowVersion);
    },
  };
}
