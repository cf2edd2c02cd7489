/** `yyyy/mm/dd/` of a unix ms time, in UTC. */
function datePath(unixMs: number): string {
  const at = new Date(unixMs);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${at.getUTCFullYear()}/${pad(at.getUTCMonth() + 1)}/${pad(at.getUTCDate())}/`;
}

/** One event's object: `<prefix><yyyy>/<mm>/<dd>/<event id>`, the UTC date of its receivedAt. A repeat writes the same key. */
export function eventObjectKey(prefix: string, eventId: string, receivedAt: number): string {
  return `${prefix}${datePath(receivedAt)}${eventId}`;
}

/**
 * A batch's object: `<prefix><yyyy>/<mm>/<dd>/<first event id>_<last event id>.ndjson`
 * (`.ndjson.gz` gzipped), dated by its first event's receivedAt; a repeated write of the same
 * batch overwrites it.
 */
export function batchObjectKey(prefix: string, first: { readonly eventId: string; readonly receivedAt: number }, lastEventId: string, gzip: boolean): string {
  return `${prefix}${datePath(first.receivedAt)}${first.eventId}_${lastEventId}.ndjson${gzip ? '.gz' : ''}`;
}
