import { valueAt, type IdempotencyKeyPolicy, type SourcePolicy } from '@fanout/flows';
import type { IdempotencyKey } from '@fanout/event-log';
import type { VerifiedRequest } from './signatures/verify-signature.js';

/**
 * The idempotency key a request carries under its flow's policy, with the key's ttl;
 * undefined when the flow has no policy or the request no key: the headers are absent or
 * empty, the body is not JSON, or there is no non-empty string or whole number at the path.
 * Such a request is an ordinary new event.
 */
export function readIdempotencyKey(policy: IdempotencyKeyPolicy | undefined, header: (name: string) => string | undefined, body: Buffer): IdempotencyKey | undefined {
  if (!policy) return undefined;
  const key = 'headers' in policy ? policy.headers.map(header).find(Boolean) : keyInBody(body, policy.path);
  return key ? { key, ttlMs: policy.ttlMs } : undefined;
}

function keyInBody(body: Buffer, path: readonly string[]): string | undefined {
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const value = valueAt(document, path);
  if (typeof value === 'string') return value;
  // JSON.parse rounds integers beyond 2^53, so two different ids could come out equal: no key is safer than a wrong one.
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

/**
 * A signed webhook-id is kept for the window in which its timestamp still verifies: up to
 * twice the tolerance after it first came (its timestamp may be a tolerance ahead of now
 * then, and verifies until a tolerance past it).
 */
const REPLAY_WINDOW_TOLERANCES = 2;

/**
 * Every idempotency key of a request: the Standard Webhooks webhook-id it was verified with
 * (the replay defence: a repeat inside the window is answered as an idempotent repeat, not
 * stored again), first, since it is signed and so decides the event's partition; then the
 * flow's own key. The same key twice is kept once, for the longer ttl. Undefined when there
 * is none.
 */
export function idempotencyKeys(source: SourcePolicy, header: (name: string) => string | undefined, body: Buffer, { webhookId }: VerifiedRequest): [IdempotencyKey, ...IdempotencyKey[]] | undefined {
  const own = readIdempotencyKey(source.idempotencyKey, header, body);
  if (webhookId === undefined || source.verify?.type !== 'standard-webhooks') return own && [own];
  const replay = { key: webhookId, ttlMs: REPLAY_WINDOW_TOLERANCES * source.verify.toleranceMs };
  if (!own) return [replay];
  return own.key === replay.key ? [{ key: own.key, ttlMs: Math.max(own.ttlMs, replay.ttlMs) }] : [replay, own];
}
