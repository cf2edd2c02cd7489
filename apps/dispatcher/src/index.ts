export { DEFAULT_MAX_DISPATCH_ATTEMPTS, dispatchBatch, type BatchReading, type BatchResult, type DispatchBatchDeps } from './dispatch-batch.js';
export {
  dispatchEvent,
  type DispatchEventDeps,
  type EventDispatch,
  type JobQueue,
  type PlannedDelivery,
  type QueueLookup,
} from './dispatch-event.js';
export { flowPlans, type FindFlow, type FlowPlans, type FlowPlansDeps } from './flow-plans.js';
export { startDispatcher, type Dispatcher, type DispatcherDeps } from './dispatcher.js';
export { eventTypeAt, matchDestinations, type DestinationMatch } from './match-destinations.js';
