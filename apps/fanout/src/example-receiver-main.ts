import { startExampleReceiver } from './example-receiver.js';

// One example destination configured from the environment, for docker compose:
// RECEIVER_NAME, PORT (default 9101) and RECEIVER_STATUS (the status every request gets, default 200).
const status = Number(process.env['RECEIVER_STATUS'] ?? 200);
await startExampleReceiver({
  name: process.env['RECEIVER_NAME'] ?? 'receiver',
  port: Number(process.env['PORT'] ?? 9101),
  host: '0.0.0.0',
  answer: () => status,
  log: (line) => process.stdout.write(`${line}\n`),
});
