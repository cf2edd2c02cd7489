import { describe, expect, it } from '@jest/globals';
import { payloadPreview, PREVIEW_BYTES } from './payload-preview.js';

describe('payloadPreview', () => {
  it('shows a text body as it is, with its type and size', () => {
    expect(payloadPreview('application/json', Buffer.from('{"type":"payment.succeeded"}'))).toEqual({ contentType: 'application/json', bytes: 28, preview: '{"type":"payment.succeeded"}', truncated: false });
  });

  it('cuts a long body, even through a multi-byte character', () => {
    const body = Buffer.from(`${'a'.repeat(PREVIEW_BYTES - 1)}é and more`);
    const preview = payloadPreview('text/plain', body);
    expect(preview.truncated).toBe(true);
    expect(preview.preview.startsWith('aaa')).toBe(true);
    expect(preview.preview).not.toMatch(/^base64:/);
  });

  it('shows a binary body as base64', () => {
    expect(payloadPreview('application/octet-stream', Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x41])).preview).toBe('base64://4AgUE=');
  });
});
