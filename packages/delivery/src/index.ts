export { deliveryOfJob, GATED_JOB_RECHECK_MS, handBackJob, HELD_JOB_RECHECK_MS, isLastAttempt, parkGatedJob, parkHeldJob, recordJobFailure, refOf, releaseJob, replayJob, type JobDelivery, type ReplayOutcome } from './bullmq-jobs.js';
export { DESTINATION_STATES, destinationHealth, type DestinationHealth, type DestinationHealthView, type DestinationStateName, type PauseReason } from './destination-health.js';
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
  DEFAULT_PROBE_LEASE_MS,
  deliveryState,
  RESPONSE_EXCERPT_CHARS,
  type AttemptFacts,
  type AttemptHealth,
  type BeginOptions,
  type BeginResult,
  type BreakerChange,
  type Death,
  type DeliveryRef,
  type DeliveryState,
  type DeliveryStateDeps,
  type LineHead,
  type NamedDelivery,
  type Retried,
  type Settlement,
  type TransitionResult,
} from './transitions.js';
export { decodeMatchedDelivery, matchDeadLetters, matchedDelivery, type MatchedDeadLetters } from './match-dead-letters.js';
export { formatReplayRate, MAX_REPLAY_RATE_PER_SECOND, matchesFilter, parseReplayRate, type DeadLetterFacts, type ReplayFilter } from './replay-filter.js';
export { type ReplayRecord, type ReplayStatus } from './replay-records.js';
export { REPLAY_BATCH, ReplayError, startReplayer, type Replayer, type ReplayerDeps, type ReplayLogger, type ReplayMatch, type ReplayRequest, type Replays } from './replayer.js';
