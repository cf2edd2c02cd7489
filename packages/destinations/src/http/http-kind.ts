import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { HttpDestination } from '@fanout/flows';
import { Agent, type Dispatcher } from 'undici';
import type { AttemptReport, DeliveryAttempt, DestinationClient } from '../attempt.js';
import { createNetworkGuard } from '../network-guard.js';
import type { DestinationKind, KindOptions } from '../registry.js';
import { classifyOutcome } from './classify-outcome.js';
import { guardedConnector } from './guarded-connector.js';
import { isSendFailure, TIMEOUT_ERROR_CODE, type SendFailure, type SendResult } from './send-result.js';
import { standardWebhooksSigner, type AttemptSigner } from './signing.js';

/** How much of a response body is read; the rest is discarded unread (the connection is then closed, not reused). */
export const RESPONSE_SNIPPET_BYTES = 4_096;

const USER_AGENT = 'fanout';

/**
 * The http kind, on undici. One Agent keeps one connection pool per origin, so every
 * destination host has keep-alive connections of its own and a slow one never holds
 * another's sockets. undici rather than got: got's per-request option handling capped a
 * process near 2-3k POSTs/s, a fraction of what node:http or undici reach (the figures that
 * decided it are in docs/benchmarks.md). Redirects are not followed: undici's request never
 * does. Every connection the Agent opens passes the network guard (guardedConnector).
 */
export function createHttpKind({ networkGuard = createNetworkGuard() }: KindOptions = {}): DestinationKind<HttpDestination> {
  const agent = new Agent({ keepAliveTimeout: 10_000, connect: guardedConnector(networkGuard) });
  return {
    type: 'http',
    client: (destination) => httpClient(agent, destination),
    close: () => agent.destroy().catch(() => {}),
  };
}

/** What stays the same for every attempt of one destination, worked out once. */
interface HttpTarget {
  readonly origin: string;
  readonly path: string;
  /** The configured headers, lower-cased, with the URL's `user:password@` as Basic auth. */
  readonly headers: Readonly<Record<string, string>>;
  readonly sign?: AttemptSigner;
}

function httpClient(agent: Agent, destination: HttpDestination): DestinationClient {
  // Split the way undici's dispatcher takes it, once per destination.
  const url = new URL(destination.url);
  const target: HttpTarget = {
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    headers: configuredHeaders(destination, url),
    ...(destination.signing && { sign: standardWebhooksSigner(destination.signing) }),
  };
  return {
    async deliver(attempt) {
      const result = await send(agent, destination, target, attempt);
      return report(result, attempt.signal.aborted);
    },
  };
}

/** The user-agent and the configured headers, lower-cased; a URL's userinfo as `Authorization: Basic` (the schema refuses one beside a configured Authorization). */
function configuredHeaders(destination: HttpDestination, url: URL): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  for (const [name, value] of Object.entries(destination.headers)) headers[name.toLowerCase()] = value;
  if (url.username || url.password) {
    const credentials = `${percentDecoded(url.username)}:${percentDecoded(url.password)}`;
    headers['authorization'] = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
  }
  return headers;
}

/** A URL's userinfo as the user meant it; one with a stray `%` (the URL parser keeps it) is taken as written. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

async function send(agent: Agent, destination: HttpDestination, target: HttpTarget, attempt: DeliveryAttempt): Promise<SendResult> {
  const startedAt = performance.now();
  const elapsedMs = (): number => Math.round(performance.now() - startedAt);
  const { timeoutMs } = destination;
  // One signal ends the attempt for both reasons; the flags say which it was.
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, timeoutMs);
  const onShutdown = (): void => abort.abort();
  if (attempt.signal.aborted) abort.abort();
  else attempt.signal.addEventListener('abort', onShutdown, { once: true });
  try {
    // undici's own header and body timeouts (300 s each by default) are off: the attempt's
    // timer above is the one timeout, however long the destination allows.
    const response = await agent.request({ origin: target.origin, path: target.path, method: 'POST', headers: requestHeaders(target, attempt), body: attempt.body, signal: abort.signal, headersTimeout: 0, bodyTimeout: 0 });
    const bodySnippet = await readSnippet(response.body);
    return { statusCode: response.statusCode, headers: response.headers as IncomingHttpHeaders, bodySnippet, durationMs: elapsedMs() };
  } catch (error) {
    return { error: sendFailure(error, { timedOut, timeoutMs, shutdown: attempt.signal.aborted }), durationMs: elapsedMs() };
  } finally {
    clearTimeout(timer);
    attempt.signal.removeEventListener('abort', onShutdown);
  }
}

function report(result: SendResult, interrupted: boolean): AttemptReport {
  const outcome = classifyOutcome(result, Date.now());
  if (isSendFailure(result)) {
    // The code is the outcome's reason; the message says more only when it is not just that.
    const { message } = result.error;
    const response = outcome.kind !== 'delivered' && message !== outcome.reason ? { response: message } : {};
    return { outcome, durationMs: result.durationMs, ...response, ...(interrupted ? { interrupted } : {}) };
  }
  const snippet = result.bodySnippet.replace(/\s+/g, ' ').trim();
  return { outcome, durationMs: result.durationMs, statusCode: result.statusCode, ...(snippet ? { response: snippet } : {}) };
}

/**
 * The contract's headers are set last, so no configured header can change what receivers
 * dedupe or verify on. Each attempt is signed anew with its own webhook-timestamp.
 */
function requestHeaders({ headers: configured, sign }: HttpTarget, { eventId, contentType, startedAt, body }: DeliveryAttempt): Record<string, string> {
  const headers: Record<string, string> = { ...configured };
  if (contentType !== '') headers['content-type'] = contentType;
  const timestamp = Math.floor(startedAt / 1_000);
  headers['webhook-id'] = eventId;
  headers['webhook-timestamp'] = String(timestamp);
  if (sign) headers['webhook-signature'] = sign(eventId, timestamp, body);
  return headers;
}

/**
 * Reads at most RESPONSE_SNIPPET_BYTES of the answer's body; a longer body is cut off (its
 * connection is then closed rather than reused), so a destination's answer cannot fill the
 * worker's memory. Once the status arrived the destination has decided: a body that stalls
 * (the attempt's timeout ends it) or breaks off does not change the answer.
 */
function readSnippet(body: Dispatcher.ResponseData['body']): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    const finish = (): void => resolve(chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8'));
    body.on('data', (chunk: Buffer) => {
      const part = chunk.subarray(0, RESPONSE_SNIPPET_BYTES - kept);
      chunks.push(part);
      kept += part.length;
      if (kept < RESPONSE_SNIPPET_BYTES) return;
      body.destroy();
      finish();
    });
    body.on('end', finish);
    body.on('error', finish);
    body.on('close', finish);
  });
}

interface FailureContext {
  readonly timedOut: boolean;
  readonly timeoutMs: number;
  /** The shutdown signal ended the attempt. */
  readonly shutdown: boolean;
}

function sendFailure(error: unknown, { timedOut, timeoutMs, shutdown }: FailureContext): SendFailure['error'] {
  if (timedOut) return { code: TIMEOUT_ERROR_CODE, message: `timeout after ${timeoutMs} ms` };
  if (shutdown) return { code: 'ERR_ABORTED', message: 'the attempt was aborted by shutdown' };
  return { code: errorCode(error) ?? 'ERR_UNKNOWN', message: errorMessage(error) };
}

// Duck-typed, not `instanceof Error`: socket errors are made by node:net, which under a test
// runner's VM context is another realm with another Error.
function errorMessage(error: unknown): string {
  return typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string' ? error.message : String(error);
}

/** The system error code (ECONNREFUSED, ECONNRESET…) where there is one, else undici's own (UND_ERR_SOCKET…). */
function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const own = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  if (own && !own.startsWith('UND_ERR_')) return own;
  return ('cause' in error ? errorCode(error.cause) : undefined) ?? own;
}
