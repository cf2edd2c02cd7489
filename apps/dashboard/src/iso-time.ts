import { z } from 'zod';

/** Unix milliseconds as the ISO 8601 string the admin API answers with. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** An isoTime in the admin API's answer schemas. */
export const isoTimeSchema = z.iso.datetime().meta({ description: 'ISO 8601, UTC.' });
