import { FanoutError, parseDuration, parseSize } from '@fanout/core';
import { DEFAULT_DENIED_RANGES, parseAddressRange } from '@fanout/destinations';
import { DEFAULT_HTTP_SERVER_LIMITS } from '@fanout/http';
import { DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_BUFFERED_BYTES } from '@fanout/ingress';
import { LOG_FORMATS } from '@fanout/observability';
import { z } from 'zod';

export const ROLES = ['ingress', 'dispatcher', 'worker', 'dashboard'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The port of a process whose PORT is unset: the lowest of its roles' ports, so all roles in
 * one process (or any process with the ingress) listen on 8080, and split roles on one host do
 * not collide.
 */
export const ROLE_PORTS: Readonly<Record<Role, number>> = { ingress: 8080, dashboard: 8081, dispatcher: 8082, worker: 8083 };

// Every message below says what a variable must be, as a noun phrase: readConfig turns it into
// `PORT must be a whole number from 0 to 65535, got "abc"`.

function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER) {
  const what = max === Number.MAX_SAFE_INTEGER ? `a whole number of ${min} or more` : `a whole number from ${min} to ${max}`;
  return z.coerce.number({ error: what }).int({ error: what }).min(min, { error: what }).max(max, { error: what });
}

const DURATION = 'a duration such as 500ms, 10s, 5m or 1h';

const duration = z.string().transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: DURATION });
    return z.NEVER;
  }
});

const positiveDuration = duration.refine((ms) => ms > 0, { error: 'a duration longer than 0, such as 500ms or 10s' });

const ROLE_LIST = `a comma-separated list of ${ROLES.join(', ')}`;

const SIZE = 'a size larger than 0 such as 512kb or 64mb';

const size = z.string().transform((value, ctx) => {
  try {
    const bytes = parseSize(/^\d+$/.test(value) ? Number(value) : value);
    if (bytes > 0) return bytes;
  } catch {
    // Said below.
  }
  ctx.addIssue({ code: 'custom', message: SIZE });
  return z.NEVER;
});

const MEMORY_SHARE = 'a percentage above 0% and at most 100%, such as 90%';

/** A list of CIDR ranges or addresses, separated by commas or spaces; `none` for an empty one. */
const addressRanges = z.string().transform((value, ctx) => {
  const entries = value.trim() === 'none' ? [] : value.split(/[\s,]+/).filter(Boolean);
  for (const entry of entries) {
    try {
      parseAddressRange(entry);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `CIDR ranges separated by commas, or none (${(error as Error).message})` });
      return z.NEVER;
    }
  }
  return entries;
});

const roles = z
  .string()
  .transform((value) => value.split(',').map((role) => role.trim()).filter(Boolean))
  .pipe(z.array(z.enum(ROLES, { error: ROLE_LIST })).min(1, { error: ROLE_LIST }));

const adminToken = z.string().min(1);
const flowsPath = z.string().min(1).default('./flows');

/** The process configuration: every variable the process reads, with its default and unit. */
const configSchema = z
  .object({
    /** Redis URL; unset means 127.0.0.1:6379, or a private redis-server when nothing answers there. */
    REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'a redis:// or rediss:// URL' }).optional(),
    /** The HTTP port of this process. Default: see ROLE_PORTS (8080 for all roles in one process). */
    PORT: wholeNumber(0, 65_535).optional(),
    /** A DeliveryFlow YAML file or folder. Default ./flows. */
    FANOUT_FLOWS: flowsPath,
    /** Hot reload: the flow files are watched (their folder, and a poll) and a change is put in force without a restart. SIGHUP reloads whatever this says. Default true. */
    FANOUT_FLOWS_WATCH: z.stringbool({ error: 'true or false' }).default(true),
    /** How often the flow files are read for changes fs.watch may miss (network and FUSE mounts). Default 2s. */
    FANOUT_FLOWS_POLL: positiveDuration.default(2_000),
    /** Bearer token of the admin API and dashboard; unset means both answer 401. */
    FANOUT_ADMIN_TOKEN: adminToken.optional(),
    /** The roles this process runs. Default all four. */
    FANOUT_ROLES: roles.default([...ROLES]),
    /** pino level. Default info. */
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'one of fatal, error, warn, info, debug, trace, silent' }).default('info'),
    /** `json` (one object per line) or `pretty` (readable lines for a terminal). Default json. */
    LOG_FORMAT: z.enum(LOG_FORMATS, { error: LOG_FORMATS.join(' or ') }).default('json'),
    /** Namespace of every Redis key, so several installations can share one Redis. Default fanout. */
    FANOUT_REDIS_PREFIX: z.string().regex(/^[a-zA-Z0-9_-]+$/, { error: 'letters, digits, - or _' }).default('fanout'),
    /** How long SIGTERM waits for in-flight deliveries before closing anyway. Default 10s. */
    FANOUT_SHUTDOWN_GRACE: duration.default(10_000),
    /** How long an event's record (GET /events/:id) and attempt logs are kept. Default 2d (README's sizing). */
    FANOUT_EVENT_RETENTION: duration.default(2 * 86_400_000),
    /** Redis replicas that must confirm each event (WAIT) before the ingress answers 202. Default 0: the primary's write alone. */
    FANOUT_INGEST_REPLICAS: wholeNumber(0).default(0),
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
      .regex(/^\d+(\.\d+)?%?$/, { error: MEMORY_SHARE })
      .transform((value) => Number(value.replace('%', '')) / 100)
      .refine((share) => share > 0 && share <= 1, { error: MEMORY_SHARE })
      .default(0.9),
    /** Bull Board shows everything and changes nothing (no retry, promote, clean, pause). Default false. */
    FANOUT_DASHBOARD_READONLY: z.stringbool({ error: 'true or false' }).default(false),
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
    FANOUT_MAX_CONNECTIONS: wholeNumber(1).default(DEFAULT_HTTP_SERVER_LIMITS.maxConnections),
  })
  .transform(({ PORT, ...config }) => ({ ...config, PORT: PORT ?? Math.min(...config.FANOUT_ROLES.map((role) => ROLE_PORTS[role])) }));

export type Config = z.infer<typeof configSchema>;

/** What the CLI's commands that talk to a deployment (send, events, status, dead-letters) and `validate` read. */
const clientConfigSchema = z.object({
  /** Where the deployment answers: its ingress for `send`, its admin API for the others. Default http://127.0.0.1:8080. */
  FANOUT_URL: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).default('http://127.0.0.1:8080'),
  /** Sent as `Authorization: Bearer` to the admin API. */
  FANOUT_ADMIN_TOKEN: adminToken.optional(),
  /** What `fanout validate` checks when given no path. Default ./flows. */
  FANOUT_FLOWS: flowsPath,
});

export type ClientConfig = z.infer<typeof clientConfigSchema>;

function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const values = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = schema.safeParse(values);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0]);
  throw new FanoutError('CONFIG_INVALID', `${name} must be ${issue.message}, got ${JSON.stringify(values[name])}`);
}

/** Reads the process configuration; a bad value throws one line in plain words: `PORT must be a whole number from 0 to 65535, got "abc"`. */
export function readConfig(env: NodeJS.ProcessEnv): Config {
  return parseEnv(configSchema, env);
}

/** Reads what the CLI needs to reach a deployment; a bad value throws one line, as readConfig does. */
export function readClientConfig(env: NodeJS.ProcessEnv): ClientConfig {
  return parseEnv(clientConfigSchema, env);
}
