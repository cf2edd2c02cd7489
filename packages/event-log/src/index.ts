export { appendEvent, appendEventOnce, waitForReplicas, type AppendOnceResult, type IdempotencyKey } from './append.js';
export {
  ackEvents,
  claimStaleEvents,
  ensureDispatcherGroup,
  readDeliveryCounts,
  readEvent,
  othersHoldPending,
  readNewEvents,
  type ClaimResult,
  type GroupState,
  type MalformedStreamEntry,
  type StreamBatch,
  type StreamEvent,
} from './consumer-group.js';
export { holdDispatchLease, releaseDispatchLease } from './dispatch-lease.js';
export { deadLetterEntries, readDispatchDeadLetter, readDispatchDeadLetters, redriveDispatchDeadLetter, type DispatchDeadLetter, type DispatchDeadLetterPage, type DispatchFailure } from './dispatch-dead-letters.js';
export { decodeEventEntry, encodeEventEntry, type EventEntry } from './event-entry.js';
export { trimEventStream, type TrimOptions, type TrimResult } from './retention.js';
export { EVENT_LOG_SCRIPTS } from './scripts.js';
