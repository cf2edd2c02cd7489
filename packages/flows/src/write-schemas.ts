import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deliveryFlowCrdText } from './crd.js';
import { deliveryFlowJsonSchemaText } from './json-schema.js';

// `npm run schema`: both are generated from the zod schema, and tests check the committed copies.
// Run from packages/flows/dist/, three levels below the repository root.
const root = new URL('../../../', import.meta.url);
const outputs = [
  ['schema/deliveryflow.schema.json', deliveryFlowJsonSchemaText()],
  ['deploy/kubernetes/deliveryflow-crd.yaml', deliveryFlowCrdText()],
] as const;

for (const [path, text] of outputs) {
  const target = fileURLToPath(new URL(path, root));
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, text);
  console.log(`wrote ${target}`);
}
