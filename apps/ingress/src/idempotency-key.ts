import { valueAt, type IdempotencyKeyPolicy } from '@fanout/flows';
import type { IdempotencyKey } from '@fanout/event-log';

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
