import { createHash, timingSafeEqual } from 'node:crypto';
import { FanoutError } from '@fanout/core';
import type { Logger } from '@fanout/observability';
import type { RequestHandler } from 'express';

/** The challenge that makes a browser prompt for credentials; the token goes in as the password. */
export const BASIC_CHALLENGE = 'Basic realm="fanout", charset="UTF-8"';

/**
 * The token a request presents: `Authorization: Bearer <token>`, or HTTP Basic with any
 * user and the token as password (what a browser sends after the prompt).
 * Undefined when the header is absent or in another scheme.
 */
export function presentedToken(authorization: string | undefined): string | undefined {
  const match = /^(\S+)\s+(\S+)\s*$/.exec(authorization?.trim() ?? '');
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  const credentials = match[2]!;
  if (scheme === 'bearer') return credentials;
  if (scheme !== 'basic') return undefined;
  const userAndPassword = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = userAndPassword.indexOf(':');
  return colon === -1 ? undefined : userAndPassword.slice(colon + 1);
}

/** Constant-time comparison of a presented token with the configured one. */
export function tokenMatches(presented: string, expected: string): boolean {
  // Comparing digests gives both sides the same length, so the time taken says nothing about the token's length either.
  const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

export interface TokenAuthOptions {
  /** The configured token; undefined or empty means every request is refused. */
  readonly token: string | undefined;
  /** What the token is called in messages: `admin token`. */
  readonly name: string;
  /** The variable that configures it: `FANOUT_ADMIN_TOKEN`. */
  readonly variable: string;
  /** What it guards, for the warning when it is not configured: `the admin API and the dashboard`. */
  readonly guards: string;
  readonly logger: Logger;
}

/** Lets a request through when it presents the token; otherwise 401 UNAUTHORIZED. */
export function requireToken({ token, name, variable, guards, logger }: TokenAuthOptions): RequestHandler {
  if (!token) {
    logger.warn(`${variable} is not set: ${guards} answer 401 to everyone`);
    // No challenge header: a browser prompt would ask for a password that cannot work.
    return (_req, _res, next) => next(new FanoutError('UNAUTHORIZED', `no ${name} is configured (${variable} is not set)`));
  }
  return (req, res, next) => {
    const presented = presentedToken(req.get('authorization'));
    if (presented !== undefined && tokenMatches(presented, token)) return next();
    res.setHeader('WWW-Authenticate', BASIC_CHALLENGE);
    next(new FanoutError('UNAUTHORIZED', presented === undefined ? `send the ${name} as Authorization: Bearer <token>` : `the ${name} is wrong`));
  };
}
