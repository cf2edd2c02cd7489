import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { deliveryFlowJsonSchema, deliveryFlowJsonSchemaText } from './json-schema.js';

const COMMITTED = new URL('../../../schema/deliveryflow.schema.json', import.meta.url);

describe('deliveryFlowJsonSchema', () => {
  it('matches the committed schema/deliveryflow.schema.json (run `npm run schema` after changing the zod schema)', async () => {
    expect(await readFile(COMMITTED, 'utf8')).toBe(deliveryFlowJsonSchemaText());
  });

  it('describes the document as written: strict, with defaults, every destination kind and every ordering', () => {
    const text = deliveryFlowJsonSchemaText();
    const schema = deliveryFlowJsonSchema();
    expect(schema).toMatchObject({ type: 'object', required: ['apiVersion', 'kind', 'metadata', 'spec'], additionalProperties: false });
    expect(text).toContain('"default": "10s"');
    expect(text).toContain('"default": "1mb"');
    for (const field of ['"signing"', '"verify"', '"idempotencyKey"', '"fifo"', '"key"', '"s3"', '"amqp"', '"nats"']) expect(text).toContain(field);
  });
});
