import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { performance } from 'node:perf_hooks';
import got, { TimeoutError, type Response } from 'got';
import { TIMEOUT_ERROR_CODE, type OutboundDelivery, type Sender, type SendFailure, type SendResponse } from './sender.js';

/** How much of a response body is read and kept for the delivery's lastError; the rest is discarded unread. */
export const RESPONSE_SNIPPET_BYTES = 4_096;

const USER_AGENT = 'fanout';

/** Sends http deliveries over keep-alive connections of its own. */
export interface HttpSender extends Sender {
  /** Destroys the sender's pooled sockets, in-flight requests' included. */
  close(): void;
}

interface Agents {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
}

export function createHttpSender(): HttpSender {
  const agents: Agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  return {
    async send(delivery) {
      const startedAt = performance.now();
      const elapsedMs = (): number => Math.round(performance.now() - startedAt);
      try {
        return { ...(await exchange(delivery, agents)), durationMs: elapsedMs() };
      } catch (error) {
        return { error: describeFailure(error, delivery.destination.timeoutMs), durationMs: elapsedMs() };
      }
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

/** The contract's headers are set last, so no configured header can change what receivers dedupe or verify on. */
function requestHeaders({ eventId, contentType, destination, attemptStartedAt }: OutboundDelivery): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  for (const [name, value] of Object.entries(destination.headers)) headers[name.toLowerCase()] = value;
  if (contentType !== '') headers['content-type'] = contentType;
  headers['webhook-id'] = eventId;
  headers['webhook-timestamp'] = String(Math.floor(attemptStartedAt.getTime() / 1_000));
  return headers;
}

/** POSTs the body and reads the answer, keeping at most RESPONSE_SNIPPET_BYTES of its body. */
function exchange(delivery: OutboundDelivery, agents: Agents): Promise<Omit<SendResponse, 'durationMs'>> {
  return new Promise((resolve, reject) => {
    // A stream rather than got's promise API: the promise API buffers whole bodies, and a
    // destination's answer must not be able to fill the worker's memory.
    const stream = got.stream.post(delivery.destination.url, {
      body: delivery.body,
      headers: requestHeaders(delivery),
      agent: agents,
      timeout: { request: delivery.destination.timeoutMs },
      followRedirect: false,
      retry: { limit: 0 },
      throwHttpErrors: false,
      signal: delivery.signal,
    });
    let answer: Pick<SendResponse, 'statusCode' | 'headers'> | undefined;
    const chunks: Buffer[] = [];
    let kept = 0;
    const finish = (): void => {
      if (answer) resolve({ ...answer, bodySnippet: Buffer.concat(chunks).toString('utf8') });
    };
    stream.on('response', (response: Response) => {
      answer = { statusCode: response.statusCode, headers: response.headers };
    });
    stream.on('data', (chunk: Buffer) => {
      const part = chunk.subarray(0, RESPONSE_SNIPPET_BYTES - kept);
      chunks.push(part);
      kept += part.length;
      if (kept < RESPONSE_SNIPPET_BYTES) return;
      finish();
      stream.destroy();
    });
    stream.on('end', finish);
    // Once the status arrived the destination has decided; a body that stalls or breaks off
    // afterwards does not change the answer.
    stream.on('error', (error) => (answer ? finish() : reject(error)));
  });
}

function describeFailure(error: unknown, timeoutMs: number): SendFailure['error'] {
  if (error instanceof TimeoutError) return { code: TIMEOUT_ERROR_CODE, message: `timeout after ${timeoutMs} ms` };
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? error.code : 'ERR_UNKNOWN';
    return { code, message: error.message };
  }
  return { code: 'ERR_UNKNOWN', message: String(error) };
}
