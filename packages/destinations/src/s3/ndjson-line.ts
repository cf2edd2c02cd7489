/** What a batch line says of one event. */
export interface LineEvent {
  readonly eventId: string;
  readonly flow: string;
  /** Unix ms. */
  readonly receivedAt: number;
  readonly contentType: string;
  readonly body: Buffer;
}

/**
 * The body as JSON text that can stand in a line, when it is JSON: valid UTF-8 that parses.
 * The text is kept as received (a re-serialised value would lose digits of large numbers and
 * the sender's key order); only its line breaks, which JSON allows between tokens alone,
 * become spaces.
 */
function jsonText(body: Buffer): string | undefined {
  const text = body.toString('utf8');
  // A lossy decoding (invalid UTF-8) would not give back the same bytes.
  if (text.includes('\uFFFD') && !Buffer.from(text, 'utf8').equals(body)) return undefined;
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  return text.replace(/[\r\n]/g, ' ');
}

/**
 * One NDJSON line (without its newline): `{"id","flow","receivedAt","contentType","body"}`,
 * `body` the JSON value when the body is JSON, else `bodyBase64` holding its bytes.
 * `receivedAt` is ISO 8601, as GET /events/:id shows it.
 */
export function ndjsonLine(event: LineEvent): string {
  const head = `{"id":${JSON.stringify(event.eventId)},"flow":${JSON.stringify(event.flow)},"receivedAt":${JSON.stringify(new Date(event.receivedAt).toISOString())},"contentType":${JSON.stringify(event.contentType)}`;
  const json = jsonText(event.body);
  return json === undefined ? `${head},"bodyBase64":${JSON.stringify(event.body.toString('base64'))}}` : `${head},"body":${json}}`;
}
