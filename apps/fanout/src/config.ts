import { FanoutError, parseDuration, parseSize } from '@fanout/core';
import { DEFAULT_DENIED_RANGES, parseAddressRange } from '@fanout/destinations';
import { DEFAULT_HTTP_SERVER_LIMITS } from '@fanout/http';
import { DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_BUFFERED_BYTES } from '@fanout/ingress';
import { z } from 'zod';

export const ROLES = ['ingress', 'dispatcher', 'worker', 'dashboard'] as const;
export type Role = (typeof ROLES)[number];

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const positiveDuration = duration.refine((ms) => ms > 0, 'expected a duration longer than 0');

const size = z.string().transform((value, ctx) => {
  try {
    const bytes = parseSize(/^\d+$/.test(value) ? Number(value) : value);
    if (bytes > 0) return bytes;
    ctx.addIssue({ code: 'custom', message: 'expected a size larger than 0' });
    return z.NEVER;
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** A list of CIDR ranges or addresses, separated by commas or spaces; `none` for an empty one. */
const addressRanges = z.string().transform((value, ctx) => {
  const entries = value.trim() === 'none' ? [] : value.split(/[\s,]+/).filter(Boolean);
  for (const entry of entries) {
    try {
      parseAddressRange(entry);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `${(error as Error).message}; expected CIDR ranges separated by commas, or none` });
      return z.NEVER;
    }
  }
  return entries;
});

const roles = z
  .string()
  .transform((value) => value.split(',').map((role) => role.trim()).filter(Boolean))
  .pipe(z.array(z.enum(ROLES, { error: (issue) => `expected a comma-separated list of ${ROLES.join(', ')}, got "${String(issue.input)}"` })).min(1));

/** The process configuration: every variable the process reads, with its default and unit. */
const configSchema = z.object({
  /** Redis URL; unset means 127.0.0.1:6379, or a private redis-server when nothing answers there. */
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' }).optional(),
  /** The HTTP port of this process. Default 8080. */
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** A DeliveryFlow YAML file or folder. Default ./flows. */
  FANOUT_FLOWS: z.string().min(1).default('./flows'),
  /** Bearer token of the admin API and dashboard; unset means both answer 401. */
  FANOUT_ADMIN_TOKEN: z.string().min(1).optional(),
  /** The roles this process runs. Default all four. */
  FANOUT_ROLES: roles.default([...ROLES]),
  /** pino level. Default info. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Namespace of every Redis key, so several installations can share one Redis. Default fanout. */
  FANOUT_REDIS_PREFIX: z.string().regex(/^[a-zA-Z0-9_-]+$/, 'expected letters, digits, - or _').default('fanout'),
  /** How long SIGTERM waits for in-flight deliveries before closing anyway. Default 10s. */
  FANOUT_SHUTDOWN_GRACE: duration.default(10_000),
  /** How long an event's record (GET /events/:id) and attempt logs are kept. Default 2d (README's sizing). */
  FANOUT_EVENT_RETENTION: duration.default(2 * 86_400_000),
  /** Redis replicas that must confirm each event (WAIT) before the ingress answers 202. Default 0: the primary's write alone. */
  FANOUT_INGEST_REPLICAS: z.coerce.number().int().min(0).default(0),
  /** How long the ingress waits for those replicas before answering 503 REPLICATION_TIMEOUT. Default 1s; 0 is refused (WAIT 0 waits forever). */
  FANOUT_INGEST_REPLICA_TIMEOUT: positiveDuration.default(1_000),
  /** Stream entries (the payloads) older than this are trimmed, unless a delivery of theirs is still open. Default 1h. */
  FANOUT_STREAM_RETENTION: positiveDuration.default(3_600_000),
  /** How long an entry stays pending on a dispatcher before another claims it (the dispatcher died). Default 30s. */
  FANOUT_CLAIM_IDLE: positiveDuration.default(30_000),
  /** The shortest delivery job lock; a crashed worker's jobs are taken up once it expires. Default 30s (a destination gets at least twice its timeout). */
  FANOUT_WORKER_LOCK: positiveDuration.default(30_000),
  /** How often each queue is checked for jobs whose worker died. Default 10s. */
  FANOUT_STALLED_INTERVAL: positiveDuration.default(10_000),
  /**
   * The share of Redis's maxmemory from which the ingress refuses new events (503
   * REDIS_MEMORY_FULL), so deliveries in flight can still record their outcome: `90%` or `90`.
   * Default 90%. Redis without a maxmemory has no such limit.
   */
  FANOUT_INGEST_MEMORY_LIMIT: z
    .string()
    .regex(/^\d+(\.\d+)?%?$/, 'expected a percentage such as 90%')
    .transform((value) => Number(value.replace('%', '')) / 100)
    .refine((share) => share > 0 && share <= 1, 'expected a percentage above 0% and at most 100%')
    .default(0.9),
  /** Bull Board shows everything and changes nothing (no retry, promote, clean, pause). Default false. */
  FANOUT_DASHBOARD_READONLY: z.stringbool({ error: 'expected true or false' }).default(false),
  /** Bearer token /metrics asks for (Prometheus: `authorization: { credentials: … }`); unset means /metrics is open to anyone who reaches PORT. */
  FANOUT_METRICS_TOKEN: z.string().min(1).optional(),
  /** Addresses no destination may connect to, as CIDR ranges; `none` for none. Default link-local and the cloud metadata addresses. */
  FANOUT_DESTINATION_DENY: addressRanges.default([...DEFAULT_DENIED_RANGES]),
  /** When set, the only addresses destinations may connect to, as CIDR ranges (the deny list still wins). Default empty: everything not denied. */
  FANOUT_DESTINATION_ALLOW: addressRanges.default([]),
  /** The request body bytes one process holds at once, over every request, encoded and decoded; beyond it 503 INGRESS_BUSY. Default 64mb. */
  FANOUT_INGRESS_MAX_BUFFERED: size.default(DEFAULT_MAX_BUFFERED_BYTES),
  /** How long a request's body may take to arrive; then 408. Default 10s. */
  FANOUT_BODY_TIMEOUT: positiveDuration.default(DEFAULT_BODY_TIMEOUT_MS),
  /** How long a client may take to send its headers; then 408. Default 10s. */
  FANOUT_HEADERS_TIMEOUT: positiveDuration.default(DEFAULT_HTTP_SERVER_LIMITS.headersTimeoutMs),
  /** How long a client may take to send its whole request; then 408. Default 30s. */
  FANOUT_REQUEST_TIMEOUT: positiveDuration.default(DEFAULT_HTTP_SERVER_LIMITS.requestTimeoutMs),
  /** Connections the HTTP server holds open at once; more are closed unanswered. Default 4096. */
  FANOUT_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(DEFAULT_HTTP_SERVER_LIMITS.maxConnections),
});

export type Config = z.infer<typeof configSchema>;

/** Reads the process configuration; a bad value throws one line naming the variable. */
export function readConfig(env: NodeJS.ProcessEnv): Config {
  const values = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = configSchema.safeParse(values);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new FanoutError('CONFIG_INVALID', `${issue.path.join('.')}: ${issue.message}`);
}
