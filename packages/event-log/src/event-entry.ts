import { z } from 'zod';

/**
 * The stream entry: the one contract between the ingress and the dispatcher, and the only
 * copy of an event's body. Everything a delivery needs is here; delivery jobs point at it.
 */
export interface EventEntry {
  /** The event id (UUIDv7), the `webhook-id` destinations see. */
  readonly id: string;
  readonly flow: string;
  /** Unix milliseconds when the ingress accepted the event. */
  readonly receivedAt: number;
  /** The inbound Content-Type, forwarded as is; empty when the request had none. */
  readonly contentType: string;
  /** The version of the flow that accepted the event (its dispatch plan's); absent in entries written before versions. */
  readonly flowVersion?: string;
  /** The request body, byte for byte. */
  readonly body: Buffer;
}

const entryFields = z.object({
  id: z.string().min(1),
  flow: z.string().min(1),
  receivedAt: z.coerce.number().int().nonnegative(),
  contentType: z.string(),
  flowVersion: z.string().min(1).optional(),
});

/**
 * The XADD field/value list of an entry. The order is fixed: the append scripts read the
 * flow and receivedAt by position (lua/includes/appendEntry.lua).
 */
export function encodeEventEntry(entry: EventEntry): (string | Buffer)[] {
  const version = entry.flowVersion === undefined ? [] : ['flowVersion', entry.flowVersion];
  return ['id', entry.id, 'flow', entry.flow, 'receivedAt', String(entry.receivedAt), 'contentType', entry.contentType, ...version, 'body', entry.body];
}

/** Reads an entry from the field/value list XREAD/XRANGE return with the Buffer variants; throws on a malformed entry. */
export function decodeEventEntry(fieldsAndValues: readonly Buffer[]): EventEntry {
  const text: Record<string, string> = {};
  let body: Buffer | undefined;
  for (let i = 0; i + 1 < fieldsAndValues.length; i += 2) {
    const field = fieldsAndValues[i]!.toString();
    const value = fieldsAndValues[i + 1]!;
    if (field === 'body') body = value;
    else text[field] = value.toString();
  }
  if (body === undefined) throw new Error('stream entry has no body field');
  const { flowVersion, ...fields } = entryFields.parse(text);
  return { ...fields, ...(flowVersion === undefined ? {} : { flowVersion }), body };
}
