import { randomBytes } from 'node:crypto';
import type { Flow } from '@fanout/flows';
import { createLogger, type Logger } from '@fanout/observability';
import { readConfig, type Config, type Role } from '../../config.js';
import { startExampleReceivers, type ExampleReceivers } from '../../example-receivers.js';
import { startFanoutProcess, type FanoutProcess } from '../../fanout-process.js';
import { EXIT_CODES, type ExitCode } from '../exit-codes.js';
import { printLine, type CliIo } from '../output.js';

export interface StartOptions {
  /** Development mode: example receivers, a generated admin token when none is set, pretty logs. */
  readonly dev?: true | undefined;
}

/** How long past the grace period a shutdown may run before the process exits anyway, in ms. */
const SHUTDOWN_BACKSTOP_MS = 10_000;

/** The event type of the banner's example `send`: one a destination filters on, so it is delivered everywhere. */
function exampleEventType(flow: Flow): string {
  return flow.destinations.flatMap((destination) => destination.filter?.eventTypes ?? [])[0] ?? 'example.created';
}

/** What `--dev` prints once the process runs: where it is, the token, and what to try. */
function printDevBanner(io: CliIo, running: FanoutProcess, config: Config, receivers: ExampleReceivers, generatedToken: string | undefined): void {
  const url = `http://127.0.0.1:${running.port}`;
  const flow = running.flows[0]!;
  printLine(io, `\nfanout runs on ${url} (${config.FANOUT_ROLES.join(', ')}) with flows ${running.flows.map((loaded) => loaded.name).join(', ')}; Redis ${running.redisUrl}`);
  for (const receiver of receivers.started) printLine(io, `  example receiver: ${receiver}, answering 200`);
  for (const address of receivers.taken) printLine(io, `  ${address} is in use: left to what listens there`);
  if (generatedToken) printLine(io, `  FANOUT_ADMIN_TOKEN was not set: this run's admin token is generated`);
  printLine(io, '\nIn another terminal:');
  if (generatedToken) printLine(io, `  export FANOUT_ADMIN_TOKEN=${generatedToken}`);
  if (url !== 'http://127.0.0.1:8080') printLine(io, `  export FANOUT_URL=${url}`);
  printLine(io, `  npx fanout send ${flow.name} --data '{"type":"${exampleEventType(flow)}"}'`);
  printLine(io, '  npx fanout events <the id it prints>');
  printLine(io, '  npx fanout status');
  printLine(io, `Bull Board: ${url}/admin/queues (any user name, the admin token as password). Ctrl-C stops.\n`);
}

/** SIGTERM and SIGINT: stop taking webhooks, finish in-flight deliveries within the grace period, exit 0. */
function stopOnSignals(stop: () => Promise<void>, graceMs: number, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'signal received');
    // A backstop: every shutdown step is bounded (grace + 5 s at most in all), but nothing unforeseen may keep us up.
    setTimeout(() => {
      logger.error('shutdown overran its grace period; exiting anyway');
      process.exit(EXIT_CODES.OK);
    }, graceMs + SHUTDOWN_BACKSTOP_MS).unref();
    stop().then(
      () => process.exit(EXIT_CODES.OK),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(EXIT_CODES.FAILED);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * `fanout start [roles...]`: runs the roles (all four by default, or FANOUT_ROLES) until
 * SIGTERM or SIGINT. Roles on the command line win over FANOUT_ROLES.
 */
export async function startCommand(roles: readonly Role[], { dev }: StartOptions, env: NodeJS.ProcessEnv, io: CliIo): Promise<ExitCode> {
  const generatedToken = dev && !env['FANOUT_ADMIN_TOKEN'] ? `dev-${randomBytes(16).toString('hex')}` : undefined;
  const config = readConfig({
    ...env,
    ...(roles.length > 0 && { FANOUT_ROLES: roles.join(',') }),
    ...(dev && !env['LOG_FORMAT'] && { LOG_FORMAT: 'pretty' }),
    ...(generatedToken && { FANOUT_ADMIN_TOKEN: generatedToken }),
  });
  const logger = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, base: { service: 'fanout' } });
  const running = await startFanoutProcess({ config, logger, env });
  const receivers = dev ? await startExampleReceivers(running.flows, (line) => printLine(io, line)).catch(async (error: unknown) => {
    await running.shutdown();
    throw error;
  }) : undefined;
  if (receivers) printDevBanner(io, running, config, receivers, generatedToken);
  // SIGHUP: read the flow files again now (hot reload also follows the files by itself, FANOUT_FLOWS_WATCH).
  process.on('SIGHUP', () => void running.reloadFlows('SIGHUP'));
  stopOnSignals(
    async () => {
      await running.shutdown();
      await receivers?.close();
    },
    config.FANOUT_SHUTDOWN_GRACE,
    logger,
  );
  return EXIT_CODES.OK;
}
