/** Unix milliseconds as the ISO 8601 string the admin API answers with. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
