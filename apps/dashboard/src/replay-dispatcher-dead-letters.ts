import { decodeEventEntry, readDispatchDeadLetter, readDispatchDeadLetters, redriveDispatchDeadLetter, type DispatchDeadLetter, type EventEntry } from '@fanout/event-log';
import { readFlowPlans, type Flow } from '@fanout/flows';
import type { FanoutKeys, PartitionKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/** Dispatcher dead letters read per round trip when every one is replayed. */
const PAGE = 100;

export const dispatcherReplayResultSchema = z.object({
  queued: z.int().min(0).meta({ description: 'Entries put back on the event stream, to be dispatched again (same event id).' }),
  undeliverable: z
    .array(z.object({ id: z.string(), reason: z.string() }))
    .meta({ description: 'Dead letters that stay, with their reason: their flow is still not loaded, or the entry is malformed.' }),
  notFound: z.array(z.string()).meta({ description: 'Requested dead letter ids that no partition holds.' }),
});
export type DispatcherReplayResult = z.output<typeof dispatcherReplayResultSchema>;

export interface DispatcherReplayDeps {
  readonly redis: Redis;
  readonly keys: FanoutKeys;
  /** The flows loaded here. */
  readonly flows: readonly Flow[];
  /** How long event records are kept (the event retention), ms. */
  readonly eventRecordTtlMs: number;
}

interface Found {
  readonly partition: PartitionKeys;
  readonly deadLetter: DispatchDeadLetter;
}

function entryOf({ fields, body }: DispatchDeadLetter): EventEntry | undefined {
  if (body === undefined) return undefined;
  try {
    return decodeEventEntry([...Object.entries(fields).flatMap(([name, value]) => [Buffer.from(name), Buffer.from(value)]), Buffer.from('body'), body]);
  } catch {
    return undefined;
  }
}

/**
 * The entry as it is to be dispatched again: as it is when its flow version is loaded here
 * or published by a process that loaded it; by the flow of its name loaded now otherwise
 * (the flow is loaded again, perhaps changed); undefined when no flow of its name is loaded.
 */
async function dispatchableEntry({ redis, keys, flows }: DispatcherReplayDeps, entry: EventEntry): Promise<EventEntry | undefined> {
  const loaded = flows.find((flow) => flow.name === entry.flow);
  if (entry.flowVersion !== undefined && loaded?.version !== entry.flowVersion) {
    const published = await readFlowPlans(redis, keys, [{ flow: entry.flow, version: entry.flowVersion }]);
    if (published.size > 0) return entry;
  }
  return loaded ? { ...entry, flowVersion: loaded.version } : undefined;
}

async function findByIds({ redis, keys }: DispatcherReplayDeps, ids: readonly string[]): Promise<{ found: Found[]; notFound: string[] }> {
  const found: Found[] = [];
  const notFound: string[] = [];
  for (const id of new Set(ids)) {
    const hits = await Promise.all(keys.partitions.map(async (partition) => ({ partition, deadLetter: await readDispatchDeadLetter(redis, partition, id) })));
    const hit = hits.find((candidate): candidate is Found => candidate.deadLetter !== undefined);
    if (hit) found.push(hit);
    else notFound.push(id);
  }
  return { found, notFound };
}

async function findAll({ redis, keys }: DispatcherReplayDeps): Promise<Found[]> {
  const found: Found[] = [];
  for (const partition of keys.partitions) {
    for (let cursor: string | null | undefined; cursor !== null; ) {
      const page = await readDispatchDeadLetters(redis, partition, { limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
      found.push(...page.items.map((deadLetter) => ({ partition, deadLetter })));
      cursor = page.nextCursor;
    }
  }
  return found;
}

/**
 * Replays dispatcher dead letters, every one or those of the given ids: an entry whose flow
 * is loaded again goes back on the event stream and is dispatched as a new entry would be
 * (the same event id, so the same webhook-id); one still undeliverable stays, with its reason.
 */
export async function replayDispatcherDeadLetters(deps: DispatcherReplayDeps, ids?: readonly string[]): Promise<DispatcherReplayResult> {
  const { found, notFound } = ids === undefined ? { found: await findAll(deps), notFound: [] } : await findByIds(deps, ids);
  let queued = 0;
  const undeliverable: DispatcherReplayResult['undeliverable'] = [];
  for (const { partition, deadLetter } of found) {
    const entry = entryOf(deadLetter);
    const dispatchable = entry && (await dispatchableEntry(deps, entry));
    if (!dispatchable) {
      undeliverable.push({ id: deadLetter.id, reason: deadLetter.reason });
      continue;
    }
    if (await redriveDispatchDeadLetter(deps.redis, partition, deadLetter.id, dispatchable, deps.eventRecordTtlMs)) queued++;
    else notFound.push(deadLetter.id);
  }
  return { queued, undeliverable, notFound };
}
