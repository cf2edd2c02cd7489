export { adminRoutes, buildDashboard, type DashboardDeps } from './build-dashboard.js';
export { MAX_DEAD_LETTER_PAGE, MAX_REPLAY_IDS, replayDryRunSchema, replayStartedSchema } from './dead-letter-routes.js';
export { eventViewSchema, type DeliveryView, type EventView } from './event-routes.js';
export { deadLetterPageSchema, type DeadLetter, type DeadLetterPage } from './list-dead-letters.js';
export { replayViewSchema, type ReplayView } from './replay-view.js';
export { statusSchema, type DestinationStatus } from './status-routes.js';
