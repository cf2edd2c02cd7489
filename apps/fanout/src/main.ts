#!/usr/bin/env node
import { createLogger } from '@fanout/observability';
import { readConfig } from './config.js';
import { startFanoutProcess } from './fanout-process.js';

const USAGE = 'usage: fanout start   (configured by REDIS_URL, PORT, FANOUT_FLOWS, FANOUT_ADMIN_TOKEN, FANOUT_ROLES, LOG_LEVEL; see README)';

/** A start-up failure is one line on stderr and a non-zero exit, never a stack trace. */
function fail(message: string): never {
  process.stderr.write(`fanout: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const command = process.argv[2] ?? 'start';
  if (command !== 'start') fail(`unknown command "${command}"\n${USAGE}`);
  const config = readConfig(process.env);
  const logger = createLogger({ level: config.LOG_LEVEL, base: { service: 'fanout' } });
  const running = await startFanoutProcess({ config, logger, env: process.env });

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'signal received');
    // A backstop: every shutdown step is bounded (grace + 5 s at most in all), but nothing unforeseen may keep us up.
    setTimeout(() => {
      logger.error('shutdown overran its grace period; exiting anyway');
      process.exit(0);
    }, config.FANOUT_SHUTDOWN_GRACE + 10_000).unref();
    running.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
