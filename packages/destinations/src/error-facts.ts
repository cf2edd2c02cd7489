// Duck-typed, not `instanceof Error`: socket errors are made by node:net, which under a test
// runner's VM context is another realm with another Error.

/** An error's message, or the thing itself as text. */
export function errorMessage(error: unknown): string {
  return typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string' ? error.message : String(error);
}

/** A string or number property of an error (`code`, `name`…), if it has one. */
export function errorField(error: unknown, field: string): string | number | undefined {
  if (typeof error !== 'object' || error === null || !(field in error)) return undefined;
  const value = (error as Record<string, unknown>)[field];
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}

const SYSTEM_CODE = /^E[A-Z_]{3,}$/;
const SYSTEM_CODE_IN_TEXT = /\b(E[A-Z_]{3,})\b/;

/**
 * The system error code of an error or of its causes (ECONNREFUSED, ECONNRESET…), if any has
 * one; else one its message names, for errors a library wrapped into a message (the AWS SDK
 * does so with a socket error from another realm, as under a test runner).
 */
export function systemErrorCode(error: unknown): string | undefined {
  const code = errorField(error, 'code');
  if (typeof code === 'string' && SYSTEM_CODE.test(code)) return code;
  const cause = typeof error === 'object' && error !== null && 'cause' in error ? error.cause : undefined;
  return (cause === undefined ? undefined : systemErrorCode(cause)) ?? SYSTEM_CODE_IN_TEXT.exec(errorMessage(error))?.[1];
}

/** One line of at most `max` characters, for an attempt's `response`. */
export function oneLine(text: string, max = 300): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
