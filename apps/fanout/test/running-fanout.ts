import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@fanout/observability';
import { replies, startReceiver, testRedisUrl, type ScriptedReceiver } from '@fanout/testkit';
import { readConfig } from '../src/config.js';
import { startFanoutProcess, type FanoutProcess } from '../src/fanout-process.js';

export const ADMIN_TOKEN = 'running-fanout-token';

/** A fanout with every role on a free port, for tests that talk to it from outside as users do. */
export interface RunningFanout {
  readonly base: string;
  readonly process: FanoutProcess;
  /** `/ok` answers 200, `/gone` 410 (dead-lettered at once). */
  readonly receiver: ScriptedReceiver;
  readonly flowsDir: string;
  close(): Promise<void>;
}

/** Flow `shop`: `ok` (payment.* events only, so some are filtered) and `gone`. */
export function shopFlowYaml(receiverUrl: string): string {
  return `apiVersion: fanout.dev/v1
kind: DeliveryFlow
metadata: { name: shop }
spec:
  defaults:
    timeout: 2s
    retry: { attempts: 2, backoff: { type: fixed, delay: 50ms, jitter: none } }
  destinations:
    - { name: ok, type: http, url: "${receiverUrl}/ok", filter: { eventTypes: [payment.succeeded] } }
    - { name: gone, type: http, url: "${receiverUrl}/gone" }
`;
}

export async function startRunningFanout(): Promise<RunningFanout> {
  const receiver = await startReceiver();
  receiver.script('/ok', replies.ok());
  receiver.script('/gone', replies.status(410));
  const flowsDir = await mkdtemp(join(tmpdir(), 'fanout-running-'));
  await writeFile(join(flowsDir, 'shop.yaml'), shopFlowYaml(receiver.url));
  const config = readConfig({
    REDIS_URL: testRedisUrl(),
    PORT: '0',
    FANOUT_FLOWS: flowsDir,
    FANOUT_ADMIN_TOKEN: ADMIN_TOKEN,
    FANOUT_REDIS_PREFIX: `run-${randomUUID().slice(0, 8)}`,
    FANOUT_SHUTDOWN_GRACE: '1s',
  });
  const running = await startFanoutProcess({ config, logger: createLogger({ level: 'silent' }), env: {} });
  return {
    base: `http://127.0.0.1:${running.port}`,
    process: running,
    receiver,
    flowsDir,
    async close() {
      await running.shutdown();
      await receiver.close();
      await rm(flowsDir, { recursive: true, force: true });
    },
  };
}

/** Polls `read` until `done` holds of its answer; throws after `timeoutMs`. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`still not there after ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
