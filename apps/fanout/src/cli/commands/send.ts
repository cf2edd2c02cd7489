import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { acceptedSchema } from '@fanout/ingress';
import type { DeploymentClient } from '../deployment-client.js';
import { CliError, EXIT_CODES, usageError, type ExitCode } from '../exit-codes.js';
import { printJson, printLine, type CliIo } from '../output.js';

export interface SendOptions {
  /** A JSON body, sent as application/json. */
  readonly data?: string | undefined;
  /** A file whose bytes are the body; `-` reads stdin. */
  readonly file?: string | undefined;
  /** `Name: value`, any number of them. */
  readonly header: readonly string[];
  readonly json?: true | undefined;
}

/** `--header 'Name: value'` → [name, value]; a header without a colon is a usage error. */
export function parseHeader(raw: string): [string, string] {
  const colon = raw.indexOf(':');
  const name = raw.slice(0, colon).trim();
  if (colon <= 0 || name === '') throw usageError(`--header takes "Name: value", got "${raw}"`);
  return [name, raw.slice(colon + 1).trim()];
}

async function readBody({ data, file }: SendOptions): Promise<{ body: Buffer; contentType?: string }> {
  if (data !== undefined) {
    try {
      JSON.parse(data);
    } catch (error) {
      throw usageError(`--data must be JSON (${(error as Error).message}); send any other body with --file and a Content-Type header`);
    }
    return { body: Buffer.from(data), contentType: 'application/json' };
  }
  if (file === undefined) return { body: Buffer.alloc(0) };
  const body = file === '-' ? await buffer(process.stdin) : await readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw usageError(`--file ${file} cannot be read (${error.code ?? error.message})`);
  });
  return { body, contentType: extname(file) === '.json' ? 'application/json' : 'application/octet-stream' };
}

/** `fanout send <flow>`: posts one webhook to the ingress and prints the event id it answers. */
export async function sendCommand(flow: string, options: SendOptions, client: DeploymentClient, io: CliIo): Promise<ExitCode> {
  const headers = Object.fromEntries(options.header.map(parseHeader));
  const { body, contentType } = await readBody(options);
  const hasContentType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
  if (contentType && !hasContentType) headers['content-type'] = contentType;

  const answer = await client.sendWebhook({ flow, body, headers });
  const parsed = acceptedSchema.safeParse(answer.body);
  if (!parsed.success) throw new CliError(`${client.url} answered ${answer.status} without an event id: is FANOUT_URL a fanout ingress?`, EXIT_CODES.FAILED);
  const replayed = answer.status === 200;
  if (options.json) {
    printJson(io, { id: parsed.data.id, status: answer.status, replayed });
  } else {
    printLine(io, replayed ? `${parsed.data.id} (already accepted: the idempotency key was seen within its ttl)` : `${parsed.data.id} accepted by flow ${flow}`);
    if (io.stderr.isTTY) io.stderr.write(`  fanout events ${parsed.data.id}   shows where each delivery stands\n`);
  }
  return EXIT_CODES.OK;
}
