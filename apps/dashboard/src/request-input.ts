import { FanoutError } from '@fanout/core';
import type { z } from 'zod';

/**
 * Parses one part of a request (its query or JSON body) with `schema`; a mismatch is a 400
 * REQUEST_INVALID whose message starts with the offending parameter or field.
 */
export function parseRequestInput<S extends z.ZodType>(schema: S, value: unknown, part: 'query' | 'body'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : part;
  throw new FanoutError('REQUEST_INVALID', `${name}: ${issue?.message ?? 'invalid'}`, { cause: result.error });
}
