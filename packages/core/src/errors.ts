/** What the registry knows of one code. */
interface ErrorCodeInfo {
  readonly status: number;
  readonly summary: string;
  /** Sent as `Retry-After` (seconds) when the request can be sent again as it is. Absent: no header. */
  readonly retryAfterSeconds?: number;
}

/**
 * The one registry of error codes. Every HTTP error body and every fatal start-up line
 * carries one of these codes; docs/errors.md documents each, and a test keeps the two in step.
 */
export const ERROR_CODES = {
  FLOW_NOT_FOUND: { status: 404, summary: 'No flow with that name is loaded.' },
  BODY_TOO_LARGE: { status: 413, summary: "The request body is larger than the flow's source.maxBodyBytes." },
  SIGNATURE_INVALID: { status: 401, summary: 'The inbound signature did not verify; the message says what was wrong (a header missing, a timestamp outside the tolerance, no signature matched), never which secret.' },
  REDIS_UNAVAILABLE: { status: 503, retryAfterSeconds: 1, summary: 'Redis could not be reached; nothing was stored. Retry after the Retry-After delay.' },
  REDIS_TIMEOUT: {
    status: 503,
    retryAfterSeconds: 1,
    summary: "Redis did not answer in time: the event may or may not be stored. Retry with the same idempotency key (the flow's, or the sender's webhook-id) so a stored one is not stored twice.",
  },
  REDIS_MEMORY_FULL: {
    status: 503,
    retryAfterSeconds: 5,
    summary: "Redis is out of memory, or nearer its maxmemory than FANOUT_INGEST_MEMORY_LIMIT allows; the event was not stored. Retry after the Retry-After delay.",
  },
  REDIS_READONLY: {
    status: 503,
    retryAfterSeconds: 1,
    summary: 'Redis is a read-only replica (after a failover, or REDIS_URL names a replica) and refused the write; nothing was stored. Retry after the Retry-After delay.',
  },
  REPLICATION_TIMEOUT: {
    status: 503,
    retryAfterSeconds: 1,
    summary: 'The event is stored on the Redis primary, but fewer replicas than FANOUT_INGEST_REPLICAS confirmed it in time; it may still be delivered.',
  },
  INGRESS_BUSY: {
    status: 503,
    retryAfterSeconds: 1,
    summary: 'The process already holds as many request body bytes as FANOUT_INGRESS_MAX_BUFFERED allows; retry after the Retry-After delay.',
  },
  REQUEST_TIMEOUT: { status: 408, summary: 'The client was too slow: its headers took longer than FANOUT_HEADERS_TIMEOUT, its body longer than FANOUT_BODY_TIMEOUT, or the whole request longer than FANOUT_REQUEST_TIMEOUT.' },
  SHUTTING_DOWN: { status: 503, retryAfterSeconds: 1, summary: 'The process is draining after SIGTERM and takes no new webhooks.' },
  UNAUTHORIZED: { status: 401, summary: 'The admin token is missing or wrong, or no FANOUT_ADMIN_TOKEN is configured.' },
  EVENT_NOT_FOUND: { status: 404, summary: 'No event with that id is known (never accepted, or past retention).' },
  DESTINATION_NOT_FOUND: { status: 404, summary: 'The flow has no destination with that name.' },
  REPLAY_NOT_FOUND: { status: 404, summary: 'No replay with that id was ever asked for (GET /replays lists them all).' },
  ROUTE_NOT_FOUND: { status: 404, summary: 'No route matches the method and path.' },
  REQUEST_INVALID: { status: 400, summary: 'The request is malformed; the message says which part.' },
  HEADERS_TOO_LARGE: { status: 431, summary: 'The request headers are larger than the server takes (Node\'s 16 KiB).' },
  FLOW_INVALID: { status: 500, summary: 'A DeliveryFlow document failed to load; the message names file, document and path.' },
  CONFIG_INVALID: { status: 500, summary: 'A process environment variable has a bad value.' },
  PORT_IN_USE: { status: 500, summary: 'Something else already listens on the PORT the process was given; it refuses to start.' },
  REDIS_MISCONFIGURED: { status: 500, summary: 'Redis is set up to evict keys (maxmemory-policy other than noeviction), which loses events; the process refuses to start.' },
  INTERNAL: { status: 500, summary: 'An unexpected error; the log has the stack.' },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class FanoutError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Seconds for the `Retry-After` header; undefined when retrying as is would not help. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    const info: ErrorCodeInfo = ERROR_CODES[code];
    this.name = 'FanoutError';
    this.code = code;
    this.status = info.status;
    this.retryAfterSeconds = info.retryAfterSeconds;
  }

  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export function isFanoutError(value: unknown): value is FanoutError {
  return value instanceof FanoutError;
}
