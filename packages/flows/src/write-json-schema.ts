import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deliveryFlowJsonSchemaText } from './json-schema.js';

// Run from packages/flows/dist/, three levels below the repository root (`npm run schema`).
const target = fileURLToPath(new URL('../../../schema/deliveryflow.schema.json', import.meta.url));

await mkdir(dirname(target), { recursive: true });
await writeFile(target, deliveryFlowJsonSchemaText());
console.log(`wrote ${target}`);
