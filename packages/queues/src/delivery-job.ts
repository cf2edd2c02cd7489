import { z } from 'zod';

/**
 * The delivery job: the one contract between the dispatcher and the workers. It points at
 * the stream entry instead of carrying the body, so a payload lives once in Redis however
 * many destinations it goes to. The job id is the event id: with one queue per destination
 * that makes it deterministic per (event, destination), and a repeated dispatch is a no-op.
 */
export const deliveryJobSchema = z.object({
  eventId: z.string().min(1),
  /** The event stream entry holding the body. */
  streamId: z.string().regex(/^\d+-\d+$/),
  flow: z.string().min(1),
  destination: z.string().min(1),
  receivedAt: z.number().int().nonnegative(),
});
export type DeliveryJob = z.infer<typeof deliveryJobSchema>;

/** BullMQ's job name for deliveries; shown in Bull Board. */
export const DELIVERY_JOB_NAME = 'deliver';
