import { UnrecoverableError } from 'bullmq';

/**
 * Thrown by `deliver` for a delivery it has dead-lettered and recorded as `dead`: BullMQ
 * fails the job at once (it is an UnrecoverableError), and the workers' `failed` listener
 * knows that the record already says so.
 */
export class DeadLetterError extends UnrecoverableError {}
