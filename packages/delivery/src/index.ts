export { deliveryOfJob, handBackJob, HELD_JOB_RECHECK_MS, isLastAttempt, parkHeldJob, recordJobFailure, refOf, releaseJob, replayJob, type JobDelivery, type ReplayOutcome } from './bullmq-jobs.js';
export { recordDispatches, type DispatchMode, type EventDispatchRecords } from './dispatch-records.js';
export { hasWaitingLines, readLineHead, takeIdleLines, type IdleLine } from './lines.js';
export { DeadLetterError, JobRefusedError, RetryLaterError } from './job-outcomes.js';
export {
  ATTEMPT_LOG_LENGTH,
  ATTEMPT_OUTCOMES,
  attemptsOf,
  decodeDeliveryRecord,
  decodeEventRecord,
  DELIVERY_STATUSES,
  readAttempts,
  readDeliveryRecord,
  readEventPayload,
  readEventRecord,
  readLastAttempt,
  REPORTED_STATUSES,
  reportedStatus,
  type AttemptOutcomeName,
  type AttemptRecord,
  type DeliveryRecord,
  type DeliveryStatus,
  type EventRecord,
  type ReportedStatus,
} from './records.js';
export { DELIVERY_SCRIPTS } from './scripts.js';
export {
  decodeLineHead,
  deliveryState,
  RESPONSE_EXCERPT_CHARS,
  type AttemptFacts,
  type BeginResult,
  type Death,
  type DeliveryRef,
  type DeliveryState,
  type DeliveryStateDeps,
  type LineHead,
  type NamedDelivery,
  type Settlement,
  type TransitionResult,
} from './transitions.js';
