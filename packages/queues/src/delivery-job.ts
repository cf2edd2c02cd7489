import type { PlannedDestination } from '@fanout/flows';
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import { deliveryJobOptions } from './job-options.js';

/**
 * The delivery job: the one contract between the dispatcher and the workers. It points at
 * the stream entry instead of carrying the body, so a payload lives once in Redis however
 * many destinations it goes to. The job id is the event id: with one queue per destination
 * that makes it deterministic per (event, destination), and a repeated dispatch is a no-op.
 */
export const deliveryJobSchema = z.strictObject({
  eventId: z.string().min(1),
  /** The event stream entry holding the body. */
  streamId: z.string().regex(/^\d+-\d+$/),
  flow: z.string().min(1),
  destination: z.string().min(1),
  receivedAt: z.number().int().nonnegative(),
  /** The line it waits in, for an ordered destination (orderLineName); absent for ordering none. */
  line: z.string().min(1).optional(),
});
export type DeliveryJob = z.infer<typeof deliveryJobSchema>;

/** BullMQ's job name for deliveries; shown in Bull Board. */
export const DELIVERY_JOB_NAME = 'deliver';

/** One `add`/`addBulk` item. */
export interface DeliveryJobSpec {
  readonly name: string;
  readonly data: DeliveryJob;
  readonly opts: JobsOptions;
}

/** The event a delivery job points at. */
export interface JobEvent {
  readonly eventId: string;
  readonly streamId: string;
  readonly flow: string;
  readonly receivedAt: number;
  /** Its line at an ordered destination. */
  readonly line?: string;
}

/** The delivery job of an event for a destination, with the options the destination's policy gives it: built here only. */
export function deliveryJob(destination: PlannedDestination, { eventId, streamId, flow, receivedAt, line }: JobEvent): DeliveryJobSpec {
  return { name: DELIVERY_JOB_NAME, data: { eventId, streamId, flow, destination: destination.name, receivedAt, ...(line === undefined ? {} : { line }) }, opts: deliveryJobOptions(destination, eventId) };
}
