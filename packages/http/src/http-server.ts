import { createServer, STATUS_CODES, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { FanoutError, type ErrorCode } from '@fanout/core';

/** What bounds the clients of one HTTP server. */
export interface HttpServerLimits {
  /** How long a client may take to send its request headers, in ms (FANOUT_HEADERS_TIMEOUT); then 408. Default 10 s. */
  readonly headersTimeoutMs?: number;
  /**
   * How long a client may take to send its whole request, in ms (FANOUT_REQUEST_TIMEOUT);
   * then 408 and the connection closes. A backstop behind the ingress's own body timeout.
   * Default 30 s.
   */
  readonly requestTimeoutMs?: number;
  /** How long an idle keep-alive connection is kept, in ms. Default 5 s (Node's). */
  readonly keepAliveTimeoutMs?: number;
  /** Connections open at once (FANOUT_MAX_CONNECTIONS); beyond it a new connection is closed at once, unanswered. Default 4096. */
  readonly maxConnections?: number;
}

export const DEFAULT_HTTP_SERVER_LIMITS = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, maxConnections: 4_096 } as const;

/** How often Node checks connections for the timeouts above: it checks every 30 s by default, which lets a 10 s timeout run to 40. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * The HTTP server of a process, with its limits, never listening. A request that Node's
 * parser refuses before the app sees it (conflicting Content-Length and Transfer-Encoding,
 * headers too large, a client too slow) is answered like any other error, with a JSON body:
 * 400 REQUEST_INVALID, 431 HEADERS_TOO_LARGE or 408 REQUEST_TIMEOUT, then the connection closes.
 */
export function createHttpServer(app: RequestListener, limits: HttpServerLimits = {}): Server {
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections } = { ...DEFAULT_HTTP_SERVER_LIMITS, ...limits };
  const server = createServer({ headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, keepAliveTimeout: keepAliveTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS }, app);
  server.maxConnections = maxConnections;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket));
  return server;
}

function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // As Node's own handler: answer only when no answer to this request has begun, or the peer would read a corrupt one.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (!socket.writable || inFlight?.headersSent || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const refusal = clientErrorOf(error);
  const body = JSON.stringify(refusal.toJSON());
  // Destroyed once written: a client that sent a broken request gets no second one on this connection.
  socket.end(`HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, () => socket.destroy());
}

function clientErrorOf(error: NodeJS.ErrnoException): FanoutError {
  const refuse = (code: ErrorCode, message: string): FanoutError => new FanoutError(code, message);
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return refuse('HEADERS_TOO_LARGE', 'the request headers are larger than this server takes');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return refuse('REQUEST_TIMEOUT', 'the request did not all arrive in time');
    default:
      // llhttp's reasons are fixed ASCII sentences ("Transfer-Encoding can't be present with Content-Length").
      return refuse('REQUEST_INVALID', `the request is not valid HTTP/1.1: ${(error as { reason?: string }).reason ?? error.message}`);
  }
}
