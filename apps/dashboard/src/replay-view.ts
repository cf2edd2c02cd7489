import { formatReplayRate, type ReplayRecord } from '@fanout/delivery';
import { z } from 'zod';
import { isoTime, isoTimeSchema } from './iso-time.js';

/** A replay's filters as it was asked for. */
const replayFilterSchema = z.object({
  ids: z.array(z.string()).optional(),
  from: isoTimeSchema.optional(),
  to: isoTimeSchema.optional(),
  error: z.string().optional(),
});

/** One replay as the admin API shows it: its progress and its audit record. */
export const replayViewSchema = z.object({
  replay: z.string().meta({ description: 'The replay\'s id.' }),
  flow: z.string(),
  destination: z.string(),
  status: z.enum(['running', 'finished']),
  matched: z.int().min(0).meta({ description: 'Dead letters the filters matched when the replay was asked for.' }),
  queued: z.int().min(0).meta({ description: 'Of those, how many went back to waiting so far.' }),
  done: z.int().min(0).meta({ description: 'Of those, how many are handled so far (queued, or skipped); the replay is finished when done reaches matched.' }),
  skipped: z.int().min(0).meta({ description: 'Of those, how many were no longer dead letters when their turn came (replayed or removed meanwhile): left alone.' }),
  filters: replayFilterSchema,
  rate: z.string().optional().meta({ description: 'Deliveries queued again per second at most ("50/s"); absent: no cap.' }),
  reason: z.string().optional(),
  requester: z.string().meta({ description: 'Who asked: the client\'s address, or the part of fanout that did (circuit-breaker).' }),
  requestedAt: isoTimeSchema,
  finishedAt: isoTimeSchema.optional(),
});
export type ReplayView = z.output<typeof replayViewSchema>;

export function replayView({ id, flow, destination, status, matched, queued, skipped, filter, ratePerSecond, reason, requester, requestedAt, finishedAt }: ReplayRecord): ReplayView {
  return {
    replay: id,
    flow,
    destination,
    status,
    matched,
    queued,
    done: queued + skipped,
    skipped,
    filters: {
      ...(filter.ids === undefined ? {} : { ids: [...filter.ids] }),
      ...(filter.from === undefined ? {} : { from: isoTime(filter.from) }),
      ...(filter.to === undefined ? {} : { to: isoTime(filter.to) }),
      ...(filter.error === undefined ? {} : { error: filter.error }),
    },
    ...(ratePerSecond === undefined ? {} : { rate: formatReplayRate(ratePerSecond) }),
    ...(reason === undefined ? {} : { reason }),
    requester,
    requestedAt: isoTime(requestedAt),
    ...(finishedAt === undefined ? {} : { finishedAt: isoTime(finishedAt) }),
  };
}
