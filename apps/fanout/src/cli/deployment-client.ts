import type { z } from 'zod';
import { CliError, EXIT_CODES } from './exit-codes.js';

/** How long a request may take, in ms, unless it says otherwise (a replay of a whole dead-letter queue does). */
const REQUEST_TIMEOUT_MS = 30_000;

export interface DeploymentClientOptions {
  /** FANOUT_URL, or --url. */
  readonly url: string;
  /** FANOUT_ADMIN_TOKEN; undefined when unset. */
  readonly adminToken: string | undefined;
}

export interface AdminRequest<S extends z.ZodType> {
  readonly method?: 'GET' | 'POST';
  /** Path and query, e.g. `/events/abc?attempts=true`. */
  readonly path: string;
  /** The answer's schema (the one the admin API documents). */
  readonly schema: S;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Default REQUEST_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

export interface WebhookRequest {
  readonly flow: string;
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

/** What the CLI asks of a running deployment, only ever over its HTTP API: the CLI has no Redis access. */
export interface DeploymentClient {
  readonly url: string;
  /** One admin API request, with the token; the answer parsed by its schema. */
  admin<S extends z.ZodType>(request: AdminRequest<S>): Promise<z.output<S>>;
  /** POST /webhooks/:flow: the answer's status and body. */
  sendWebhook(request: WebhookRequest): Promise<{ status: number; body: unknown }>;
}

/** The `{"error": {"code", "message"}}` every fanout error answer carries. */
interface ErrorBody {
  error?: { code?: string; message?: string };
}

const looksLikeErrorBody = (body: unknown): body is ErrorBody => typeof body === 'object' && body !== null && 'error' in body;

export function createDeploymentClient({ url, adminToken }: DeploymentClientOptions): DeploymentClient {
  const base = url.replace(/\/+$/, '');

  async function send(path: string, init: RequestInit, timeoutMs: number): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw unreachable(base, error, timeoutMs);
    }
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON: something else answers at FANOUT_URL; refused below with what it said.
    }
    if (!response.ok) throw refused(base, init.method ?? 'GET', path, response.status, body, adminToken !== undefined);
    return { status: response.status, body };
  }

  return {
    url: base,
    async admin({ method = 'GET', path, schema, body, timeoutMs = REQUEST_TIMEOUT_MS }) {
      const headers: Record<string, string> = adminToken === undefined ? {} : { authorization: `Bearer ${adminToken}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const answer = await send(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }, timeoutMs);
      const parsed = schema.safeParse(answer.body);
      if (!parsed.success) throw new CliError(`${base}${path} answered something that is not fanout's admin API (${parsed.error.issues[0]?.message ?? 'unexpected answer'}): is FANOUT_URL right?`, EXIT_CODES.FAILED);
      return parsed.data;
    },
    sendWebhook({ flow, body, headers }) {
      return send(`/webhooks/${encodeURIComponent(flow)}`, { method: 'POST', headers: { ...headers }, body }, REQUEST_TIMEOUT_MS);
    },
  };
}

function unreachable(base: string, error: unknown, timeoutMs: number): CliError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === 'TimeoutError') return new CliError(`${base} did not answer within ${timeoutMs / 1000} s`, EXIT_CODES.UNAVAILABLE, { cause: error });
  const why = cause?.code ?? cause?.message ?? (error as Error).message;
  return new CliError(`cannot reach fanout at ${base} (${why}): is it running, and is FANOUT_URL right?`, EXIT_CODES.UNAVAILABLE, { cause: error });
}

function refused(base: string, method: string, path: string, status: number, body: unknown, hasToken: boolean): CliError {
  const error = looksLikeErrorBody(body) ? body.error : undefined;
  const said = error?.message ? `${error.message}${error.code ? ` (${error.code})` : ''}` : `HTTP ${status}`;
  if (status === 401) {
    // With a token, the deployment's reason says it all (wrong, or none configured there); without one, what to set.
    return new CliError(hasToken ? said : "the admin API wants a token: set FANOUT_ADMIN_TOKEN to the deployment's admin token (npm start prints one)", EXIT_CODES.UNAUTHORIZED);
  }
  if (error?.code === 'ROUTE_NOT_FOUND') {
    return new CliError(`${base} has no route for ${method} ${path.split('?')[0]}: FANOUT_URL must point at a process with the ingress role for send, the dashboard role for the other commands`, EXIT_CODES.FAILED);
  }
  return new CliError(said, status >= 500 ? EXIT_CODES.UNAVAILABLE : EXIT_CODES.FAILED);
}
