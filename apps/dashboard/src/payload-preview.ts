/** A payload as an operator sees it in Bull Board: its type, size and start. */
export interface PayloadPreview {
  readonly contentType: string;
  readonly bytes: number;
  /** The start of the body as text; for a body that is not UTF-8, `base64:` and the start of its bytes. */
  readonly preview: string;
  readonly truncated: boolean;
}

/** How much of a body a preview shows. */
export const PREVIEW_BYTES = 512;

export function payloadPreview(contentType: string, body: Buffer): PayloadPreview {
  const start = body.subarray(0, PREVIEW_BYTES);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(start);
  // A cut through a multi-byte character leaves one replacement at the end: still text.
  const isText = !text.slice(0, -1).includes('\uFFFD');
  return { contentType, bytes: body.length, preview: isText ? text : `base64:${start.toString('base64')}`, truncated: body.length > PREVIEW_BYTES };
}
