import { z } from 'zod';
import { deliveryFlowSchema } from './schema.js';

/**
 * The JSON Schema (draft 2020-12) of a DeliveryFlow document as written: durations and sizes
 * as strings or numbers, defaults shown, fields that are not supported yet included so editors
 * can describe them. Generated from the zod schema, so the two never disagree.
 */
export function deliveryFlowJsonSchema(): z.core.JSONSchema.JSONSchema {
  return z.toJSONSchema(deliveryFlowSchema, { io: 'input', target: 'draft-2020-12' });
}

/** The exact text of the committed `schema/deliveryflow.schema.json`. */
export function deliveryFlowJsonSchemaText(): string {
  return `${JSON.stringify(deliveryFlowJsonSchema(), null, 2)}\n`;
}
