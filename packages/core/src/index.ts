export { computeRetryDelay, type BackoffPolicy, type RetryDelayInput } from './backoff.js';
export { ERROR_CODES, FanoutError, isFanoutError, type ErrorCode } from './errors.js';
export { isEventId, newEventId } from './ids.js';
export { parseDuration, parseSize, type DurationInput, type SizeInput } from './units.js';
export { isCredentialName, MASK, maskUrl } from './masking.js';
export { quoted } from './quote.js';
export { isStandardWebhooksSecret, STANDARD_WEBHOOKS_SECRET_PREFIX, standardWebhooksKey, standardWebhooksSignature } from './standard-webhooks.js';
