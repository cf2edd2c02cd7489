import { FanoutError, quoted } from '@fanout/core';
import type { Logger } from '@fanout/observability';
import { redisFailure } from '@fanout/redis';
import type { ErrorRequestHandler, RequestHandler } from 'express';

/** body-parser's errors carry a `type` and an HTTP `status`; they are the client's fault, not ours. */
interface BodyParserError {
  type: string;
  status: number;
  message: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return typeof error === 'object' && error !== null && typeof (error as BodyParserError).type === 'string' && typeof (error as BodyParserError).status === 'number';
}

/** A Redis command that failed because of Redis (down, paused, full, read-only) is Redis's state, not a bug: the request may be sent again later. */
export function redisStateError(error: unknown): FanoutError | undefined {
  const failure = redisFailure(error);
  if (failure === 'other') return undefined;
  if (failure === 'out-of-memory') return new FanoutError('REDIS_MEMORY_FULL', 'Redis is out of memory; retry later', { cause: error });
  if (failure === 'read-only') return new FanoutError('REDIS_READONLY', 'Redis is a read-only replica; retry later', { cause: error });
  return new FanoutError('REDIS_UNAVAILABLE', `Redis ${failure === 'unanswered' ? 'did not answer in time' : 'cannot be reached'}; retry later`, { cause: error });
}

/** The router's refusal of a path parameter that is not valid percent-encoding (`/webhooks/%ff`): a URIError with status 400. */
function isPathDecodeError(error: unknown): boolean {
  // Duck-typed: a URIError from another realm (a Jest VM) fails `instanceof`.
  return typeof error === 'object' && error !== null && (error as Error).name === 'URIError' && (error as { status?: unknown }).status === 400;
}

function toFanoutError(error: unknown): FanoutError | undefined {
  if (error instanceof FanoutError) return error;
  if (isPathDecodeError(error)) return new FanoutError('REQUEST_INVALID', 'the path is not valid percent-encoded UTF-8');
  if (!isBodyParserError(error)) return redisStateError(error);
  if (error.type === 'entity.too.large') return new FanoutError('BODY_TOO_LARGE', error.message, { cause: error });
  if (error.status >= 400 && error.status < 500) return new FanoutError('REQUEST_INVALID', error.message, { cause: error });
  return undefined;
}

/**
 * The one error middleware of a fanout Express app: a FanoutError becomes
 * `{"error": {"code", "message"}}` with its status, and so does a Redis command that failed
 * because Redis is down, paused or full (503); anything else is logged with its stack and
 * answered 500 without details.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const known = toFanoutError(error);
    if (known) {
      if (known.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(known.retryAfterSeconds));
      res.status(known.status).json(known.toJSON());
      return;
    }
    logger.error({ err: error, method: req.method, path: quoted(req.path) }, 'request failed');
    res.status(500).json(new FanoutError('INTERNAL', 'internal error').toJSON());
  };
}

/** The last route of an app: any unmatched request gets a JSON 404. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new FanoutError('ROUTE_NOT_FOUND', `no route for ${req.method} ${quoted(req.path)}`));
};
