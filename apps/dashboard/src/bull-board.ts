import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { redisStateError } from '@fanout/http';
import { deliveryJobOptions, deliveryJobSchema } from '@fanout/queues';
import type { Job } from 'bullmq';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { DestinationStateControl } from './destination-state-routes.js';
import { OperatorRefusal } from './operator-refusal.js';
import { attemptLines, operatorJobs, type OperatorQueue } from './operator-jobs.js';

/** Where Bull Board is served; its pages link to assets and API calls under this path. */
export const BULL_BOARD_PATH = '/admin/queues';

type BullMQAdapterOptions = NonNullable<ConstructorParameters<typeof BullMQAdapter>[1]>;
type QueueJobOptions = Parameters<BullMQAdapter['addJob']>[2];
type CleanStatus = Parameters<BullMQAdapter['clean']>[0];
/** A delivery job's own fields; anything else in a posted job's data is dropped. */
const jobFields = z.object(deliveryJobSchema.shape);

/**
 * One destination's queue as Bull Board sees it: its jobs carry their delivery (record,
 * attempts, target, payload) and their actions go through the delivery's transitions (see
 * operator-jobs.ts). Queue-wide actions that would drop queued deliveries (Empty, Obliterate,
 * Clean of waiting or delayed jobs) are refused; a job added by hand (or by Duplicate) gets its
 * delivery's job id and options, is refused while that delivery still has its job, and is sent
 * only if it names a real delivery that is not settled (the worker's begin checks).
 * Pause and Resume pause and resume the destination, as the admin API does (the workers keep
 * the queue's own pause in step with the destination's state, so a bare queue pause would not last).
 */
class DeliveryQueueAdapter extends BullMQAdapter {
  readonly #context: OperatorQueue;
  readonly #control: DestinationStateControl;

  constructor(context: OperatorQueue, control: DestinationStateControl, options: Partial<BullMQAdapterOptions>) {
    super(context.queue, options);
    this.#context = context;
    this.#control = control;
  }

  override async pause(): Promise<void> {
    await this.#control.pause({ flow: this.#context.flow, destination: this.#context.destination.name, queue: this.#context.queue }, 'Bull Board');
  }

  override async resume(): Promise<void> {
    await this.#control.resume({ flow: this.#context.flow, destination: this.#context.destination.name, queue: this.#context.queue }, 'Bull Board');
  }

  override async getJob(id: string): Promise<Job | undefined> {
    const job = await super.getJob(id);
    return job && (await operatorJobs(this.#context, [job]))[0];
  }

  override async getJobs(...query: Parameters<BullMQAdapter['getJobs']>): Promise<Job[]> {
    return operatorJobs(this.#context, await super.getJobs(...query));
  }

  override getJobLogs(id: string): Promise<string[]> {
    return attemptLines(this.#context, id);
  }

  override async addJob(name: string, data: unknown, options: QueueJobOptions): Promise<Job> {
    // Duplicate posts the job's data as Bull Board shows it, the delivery's facts beside the job's fields: only those are kept.
    const parsed = jobFields.safeParse(data);
    if (!parsed.success) throw new OperatorRefusal(`a delivery job names its event: {"eventId", "streamId", "flow", "destination", "receivedAt"}; wrong or missing: ${parsed.error.issues.map(({ path }) => path.join('.')).join(', ')}`, 400);
    const { eventId } = parsed.data;
    // One job per delivery: under a kept job's id BullMQ adds nothing yet answers as if it had. The worker's begin decides the rest.
    const state = await this.#context.queue.getJobState(eventId);
    if (state !== 'unknown') throw new OperatorRefusal(`the delivery of event ${eventId} already has its job (${state}): a second would be a copy; Retry sends a finished delivery again`);
    return super.addJob(name, parsed.data, { ...options, ...deliveryJobOptions(this.#context.destination, eventId) });
  }

  override async clean(status: CleanStatus, graceTimeMs: number): Promise<void> {
    if (status !== 'completed' && status !== 'failed') throw new OperatorRefusal(`cleaning ${status} jobs would lose their deliveries; only completed and failed jobs can be cleaned`);
    await super.clean(status, graceTimeMs);
  }

  override empty(): Promise<void> {
    throw new OperatorRefusal('emptying a destination queue would lose its queued deliveries; pause the queue instead');
  }

  override obliterate(): Promise<void> {
    throw new OperatorRefusal('obliterating a destination queue would lose its deliveries and dead letters');
  }
}

export interface BullBoardOptions {
  /** FANOUT_DASHBOARD_READONLY: every queue read-only (no retry, promote, clean, pause). */
  readonly readOnly: boolean;
  /** Where Pause and Resume go. */
  readonly control: DestinationStateControl;
}

/** Bull Board over every destination queue, to be mounted at BULL_BOARD_PATH. */
export function bullBoardHandler(queues: Iterable<OperatorQueue>, { readOnly, control }: BullBoardOptions): RequestHandler {
  const serverAdapter = new ExpressAdapter().setBasePath(BULL_BOARD_PATH);
  // Bull Board's "Add job" form is built from it.
  const jobDataSchema = z.toJSONSchema(deliveryJobSchema);
  createBullBoard({
    queues: [...queues].map((context) => new DeliveryQueueAdapter(context, control, { readOnlyMode: readOnly, description: `${context.destination.type} destination`, jobDataSchema })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'fanout', jobDetails: { defaultTab: 'Data' } } },
  });
  // A Redis that went away while a request waited answers as the rest of the admin API does, not as a 500.
  type BoardErrorHandler = Parameters<ExpressAdapter['setErrorHandler']>[0];
  const ownHandler = (serverAdapter as unknown as { errorHandler: BoardErrorHandler }).errorHandler;
  const answer = (error: Error): ReturnType<BoardErrorHandler> | { status: number; body: object } => {
    const redisDown = redisStateError(error);
    return redisDown ? { status: redisDown.status, body: redisDown.toJSON() } : ownHandler(error);
  };
  // Bull Board types statuses as the ones it answers itself; Express sends any.
  serverAdapter.setErrorHandler(answer as BoardErrorHandler);
  // getRouter() is typed `any`; it is an Express app, which is a request handler.
  return serverAdapter.getRouter() as RequestHandler;
}
