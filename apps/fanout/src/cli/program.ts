import { readFileSync } from 'node:fs';
import { Argument, Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { readClientConfig, ROLES } from '../config.js';
import { createDeploymentClient, type DeploymentClient } from './deployment-client.js';
import type { ExitCode } from './exit-codes.js';
import type { CliIo } from './output.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const ENVIRONMENT_HELP = `
Environment:
  FANOUT_URL          where send, events, dead-letters and status reach the deployment (default http://127.0.0.1:8080)
  FANOUT_ADMIN_TOKEN  the admin token those commands send; start serves the admin API with it
  FANOUT_FLOWS        the flow file or folder of start and validate (default ./flows)
  start reads every variable of the README's Configuration table.

Exit codes:
  0  done
  1  the answer is no: a flow does not load, the flow, destination or event does not exist, the
     request was refused, some ids were not replayed, start could not start
  2  the command line is wrong
  3  the deployment did not answer at FANOUT_URL, or cannot serve now (5xx): try again later
  4  the admin token is missing or wrong`;

const jsonOption = () => new Option('--json', 'print the answer as JSON, for scripts');

function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < min || number > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return number;
  };
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

// Each command's module is imported when it runs: --help, --version and validate then start in
// a tenth of a second instead of loading BullMQ, Bull Board and Express first.

/**
 * The `fanout` command line. Each action's exit code goes to `exit`; errors are thrown for
 * runCli to print. `env` is read through config.ts only.
 */
export function buildProgram(io: CliIo, env: NodeJS.ProcessEnv, exit: (code: ExitCode) => void): Command {
  const client = (): DeploymentClient => {
    const config = readClientConfig(env);
    return createDeploymentClient({ url: config.FANOUT_URL, adminToken: config.FANOUT_ADMIN_TOKEN });
  };
  const program = new Command()
    .name('fanout')
    .description('Durable webhook fan-out: run it, check flows, send events, follow deliveries, replay dead letters.')
    .version(version, '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: (text) => void io.stdout.write(text), writeErr: (text) => void io.stderr.write(text) })
    .showHelpAfterError('(fanout --help lists the commands)')
    .addHelpText('after', ENVIRONMENT_HELP);

  program
    .command('start')
    .description('run fanout: all four roles in this process, or the roles named (FANOUT_ROLES when none are)')
    .addArgument(new Argument('[roles...]', 'roles to run').choices(ROLES))
    .option('--dev', 'development mode: example receivers for the flows\' loopback destinations, a generated admin token when none is set, pretty logs')
    .addHelpText('after', '\nExamples:\n  fanout start                 every role, on PORT (default 8080)\n  fanout start worker          one role, on its own default port (8083)\n  npm start                    fanout start --dev with flows/payments.yaml')
    .action(async (roles, options) => exit(await (await import('./commands/start.js')).startCommand(roles, options, env, io)));

  program
    .command('validate')
    .description('load flow files as start would, without Redis: exit 0, or 1 with the error line')
    .argument('[path]', 'a DeliveryFlow file or folder (default FANOUT_FLOWS, or ./flows)')
    .addOption(jsonOption())
    .action(async (path, options) => exit(await (await import('./commands/validate.js')).validateCommand(path ?? readClientConfig(env).FANOUT_FLOWS, options, env, io)));

  program
    .command('send')
    .description('post one webhook to a flow (POST /webhooks/:flow) and print its event id')
    .argument('<flow>', 'the flow name')
    .addOption(new Option('--data <json>', 'the body, JSON (sent as application/json)').conflicts('file'))
    .addOption(new Option('--file <path>', 'the body, read from a file (- for stdin; .json files as application/json)'))
    .option('-H, --header <name:value>', 'a request header; repeat for more', collect, [] as string[])
    .addOption(jsonOption())
    .action(async (flow, options) => exit(await (await import('./commands/send.js')).sendCommand(flow, options, client(), io)));

  program
    .command('events')
    .description('where each delivery of an event stands (GET /events/:id)')
    .argument('<id>', 'the event id send printed')
    .option('--attempts', 'also show every attempt of each delivery')
    .addOption(jsonOption())
    .action(async (id, options) => exit(await (await import('./commands/events.js')).eventsCommand(id, options, client(), io)));

  program
    .command('dead-letters')
    .description("list a destination's dead letters, or replay them with the same webhook-id")
    .argument('<flow>', 'the flow name')
    .argument('<destination>', 'the destination name')
    .option('--limit <n>', 'dead letters per page', wholeNumber(1, 500), 50)
    .option('--offset <n>', 'dead letters to skip, newest first', wholeNumber(0, Number.MAX_SAFE_INTEGER), 0)
    .option('--replay', 'replay every dead letter of the destination (or those the filters below match)')
    .option('--ids <ids>', 'with --replay: only these event ids, comma-separated')
    .option('--from <time>', 'with --replay: only those dead-lettered at or after this ISO time')
    .option('--to <time>', 'with --replay: only those dead-lettered at or before this ISO time')
    .option('--error <text>', 'with --replay: only those whose reason contains this text')
    .option('--rate <rate>', 'with --replay: queue at most this many again per second, minute or hour (50/s, 600/m)')
    .option('--reason <text>', 'with --replay: why, for the audit (GET /replays)')
    .option('--dry-run', 'with --replay: say how many would be replayed, replay nothing')
    .addOption(jsonOption())
    .addHelpText('after', '\nA replay runs in the background of the deployment; the command follows it until it finishes, with its\nprogress on a terminal (Ctrl-C stops following, not the replay). --json answers at once with the\nreplay\'s id: GET /replays/<id> has its progress.')
    .action(async (flow, destination, options) => exit(await (await import('./commands/dead-letters.js')).deadLettersCommand(flow, destination, options, client(), io)));

  program
    .command('status')
    .description("every destination's queue: waiting, active, delayed and failed (dead-lettered) deliveries")
    .addOption(jsonOption())
    .action(async (options) => exit(await (await import('./commands/status.js')).statusCommand(options, client(), io)));

  return program;
}

