import { parseDuration, parseSize } from '@fanout/core';
import { z } from 'zod';

// Every message here says only what was expected: the loader appends what it got (or that
// the field is missing), so values that came from `${env:…}` can be kept out of the message.
export function expecting(what: string): { error: string } {
  return { error: `expected ${what}` };
}

const DURATION_PATTERN = /^\d+(\.\d+)?(ms|s|m|h|d)$/;
const SIZE_PATTERN = /^\d+(\.\d+)?(kb|mb)$/;
const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SIMPLE_JSON_PATH_PATTERN = /^\$(\.[A-Za-z0-9_-]+)+$/;

const DURATION = 'a duration such as 500ms, 10s, 5m, 1h or 7d, or whole milliseconds';
const SIZE = 'a size such as 512kb or 1mb, or whole bytes';

/** A whole number no smaller than `min`. */
export function wholeNumber(min: number) {
  const expectation = expecting(`a whole number ≥ ${min}`);
  return z.int(expectation).min(min, expectation);
}

/** `500ms`, `10s`, `5m`, `1h`, `7d` or whole milliseconds, parsed to milliseconds. */
export const duration = z
  .union([z.string(expecting(DURATION)).regex(DURATION_PATTERN, expecting(DURATION)), z.int(expecting(DURATION)).min(0, expecting(DURATION))], expecting(DURATION))
  .transform(parseDuration)
  .meta({ description: 'A duration: `500ms`, `10s`, `5m`, `1h`, `7d`, or whole milliseconds.' });

/** A duration that must be longer than zero (a timeout, a window, a retention). */
export const positiveDuration = duration.refine((ms) => ms > 0, expecting('a duration longer than 0'));

const PERCENT_PATTERN = /^\d+(\.\d+)?%$/;
const PERCENT = 'a percentage such as 50%, above 0% and at most 100%';

/** `50%`, parsed to the number 50: above 0, at most 100. */
export const percentage = z
  .string(expecting(PERCENT))
  .regex(PERCENT_PATTERN, expecting(PERCENT))
  .transform((text) => Number(text.slice(0, -1)))
  .refine((percent) => percent > 0 && percent <= 100, expecting(PERCENT))
  .meta({ description: 'A percentage: `50%`.' });

/** `512kb`, `1mb` (1kb = 1024 bytes) or whole bytes, parsed to bytes. */
export const positiveSize = z
  .union([z.string(expecting(SIZE)).regex(SIZE_PATTERN, expecting(SIZE)), z.int(expecting(SIZE)).min(1, expecting(SIZE))], expecting(SIZE))
  .transform(parseSize)
  .refine((bytes) => bytes > 0, expecting('a size larger than 0'))
  .meta({ description: 'A size: `512kb`, `1mb` (1kb = 1024 bytes), or whole bytes.' });

/** Flow and destination names: they appear in URLs, queue names and metrics labels. */
export const resourceName = z
  .string(expecting('a name'))
  .regex(NAME_PATTERN, expecting('a name of at most 63 characters a-z, 0-9 and "-", starting with a letter or digit'));

export const nonEmptyString = z.string(expecting('a string')).min(1, expecting('a non-empty string'));

/** `$.type`, `$.data.kind`: property names only, no wildcards, filters or indexes. */
export const simpleJsonPath = z
  .string(expecting('a JSON path'))
  .regex(SIMPLE_JSON_PATH_PATTERN, expecting('a simple dotted JSON path such as $.type or $.data.kind'));

export const httpUrl = z.url({ protocol: /^https?$/, ...expecting('an http:// or https:// URL') });

/** A broker's URL with one of `schemes` (without the colon) and a host. */
export function brokerUrl(schemes: readonly string[], what: string) {
  return z.url({ protocol: new RegExp(`^(${schemes.join('|')})$`), hostname: /./, ...expecting(what) });
}

// Tokens of printable ASCII without whitespace, separated by dots; `*` and `>` are wildcards,
// which name no one subject to publish to.
const NATS_SUBJECT_PATTERN = /^[^\s.*>]+(\.[^\s.*>]+)*$/;

/** A NATS subject to publish to: dot-separated tokens, no wildcards. */
export const natsSubject = z
  .string(expecting('a NATS subject'))
  .regex(NATS_SUBJECT_PATTERN, expecting('a NATS subject such as orders.created: dot-separated tokens without spaces or the wildcards * and >'));
