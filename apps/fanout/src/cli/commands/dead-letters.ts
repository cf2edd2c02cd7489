import { deadLetterPageSchema, MAX_REPLAY_IDS, replayDryRunSchema, replayStartedSchema, replayViewSchema, type DeadLetter, type ReplayView } from '@fanout/dashboard';
import type { DeploymentClient } from '../deployment-client.js';
import { EXIT_CODES, usageError, type ExitCode } from '../exit-codes.js';
import { formatTable, printJson, printLine, progressLine, type CliIo, type Column, type Progress } from '../output.js';

export interface DeadLettersOptions {
  readonly limit: number;
  readonly offset: number;
  readonly replay?: true | undefined;
  /** Comma-separated event ids. */
  readonly ids?: string | undefined;
  /** ISO times of the dead-lettering. */
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  /** A substring of the reason they died. */
  readonly error?: string | undefined;
  /** `50/s`, `600/m`. */
  readonly rate?: string | undefined;
  readonly reason?: string | undefined;
  readonly dryRun?: true | undefined;
  readonly json?: true | undefined;
}

/** How often a replay's progress is read while the command waits for it, in ms. */
const PROGRESS_POLL_MS = 500;

const COLUMNS: readonly Column<DeadLetter>[] = [
  { header: 'EVENT ID', value: (deadLetter) => deadLetter.eventId },
  { header: 'FAILED AT', value: (deadLetter) => deadLetter.failedAt },
  { header: 'ATTEMPTS', value: (deadLetter) => deadLetter.attempts },
  { header: 'REASON', value: (deadLetter) => deadLetter.failedReason },
];

interface Target {
  readonly client: DeploymentClient;
  /** `/flows/:flow/destinations/:destination/dead-letters`, encoded. */
  readonly path: string;
  /** `flow/destination`, for messages. */
  readonly name: string;
}

/** `1 dead letter`, `3 dead letters`. */
const deadLetters = (count: number): string => `${count} dead ${count === 1 ? 'letter' : 'letters'}`;

function parseIds(raw: string): string[] {
  const ids = [...new Set(raw.split(',').map((id) => id.trim()).filter(Boolean))];
  if (ids.length === 0) throw usageError('--ids takes event ids separated by commas');
  if (ids.length > MAX_REPLAY_IDS) throw usageError(`--ids takes at most ${MAX_REPLAY_IDS} event ids, got ${ids.length}`);
  return ids;
}

const page = (target: Target, limit: number, offset: number) => target.client.admin({ path: `${target.path}?limit=${limit}&offset=${offset}`, schema: deadLetterPageSchema });

/** The replay request's body: the filters given on the command line. */
function replayFilters(options: DeadLettersOptions, ids: string[] | undefined): Record<string, unknown> {
  const { from, to, error, rate, reason } = options;
  return Object.fromEntries(Object.entries({ ids, from, to, error, rate, reason }).filter(([, value]) => value !== undefined));
}

/** Polls the replay until it finishes, showing its progress on a terminal. */
async function waitForReplay(client: DeploymentClient, id: string, progress: Progress): Promise<ReplayView> {
  for (;;) {
    const replay = await client.admin({ path: `/replays/${encodeURIComponent(id)}`, schema: replayViewSchema });
    if (replay.status === 'finished') {
      progress.done();
      return replay;
    }
    progress.update(`replaying: ${replay.done}/${replay.matched} dead letters handled, ${replay.queued} queued again${replay.rate ? ` (at most ${replay.rate})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, PROGRESS_POLL_MS));
  }
}

/**
 * `fanout dead-letters <flow> <destination>`: a page of the destination's dead letters, or with
 * `--replay` those the filters match (every one without) sent again with the same webhook-id,
 * by a replay in the background whose progress the command follows until it finishes
 * (`--json` answers at once with its id); `--dry-run` says how many would be replayed. Exit 1
 * when some of the named ids are not dead letters.
 */
export async function deadLettersCommand(flow: string, destination: string, options: DeadLettersOptions, client: DeploymentClient, io: CliIo): Promise<ExitCode> {
  const replayOnly = { '--ids': options.ids, '--from': options.from, '--to': options.to, '--error': options.error, '--rate': options.rate, '--reason': options.reason, '--dry-run': options.dryRun };
  const misplaced = Object.entries(replayOnly).flatMap(([flag, value]) => (value === undefined ? [] : [flag]));
  if (!options.replay && misplaced.length > 0) throw usageError(`${misplaced.join(', ')} ${misplaced.length === 1 ? 'goes' : 'go'} with --replay`);
  const target: Target = { client, path: `/flows/${encodeURIComponent(flow)}/destinations/${encodeURIComponent(destination)}/dead-letters`, name: `${flow}/${destination}` };
  const progress = progressLine(io, !options.json);
  const ids = options.ids === undefined ? undefined : parseIds(options.ids);

  if (!options.replay) {
    const listed = await page(target, options.limit, options.offset);
    if (options.json) {
      printJson(io, listed);
    } else {
      if (listed.items.length > 0) printLine(io, formatTable(COLUMNS, listed.items));
      const more = listed.nextOffset === null ? '' : ` (--offset ${listed.nextOffset} for the next page)`;
      printLine(io, `${listed.items.length} of ${deadLetters(listed.total)} of ${target.name}${more}`);
    }
    return EXIT_CODES.OK;
  }

  const filters = replayFilters(options, ids);
  const notFoundLine = (notFound: readonly string[] | undefined) => notFound && notFound.length > 0 && printLine(io, `not dead letters of ${target.name}: ${notFound.join(', ')}`);
  const exitFor = (notFound: readonly string[] | undefined) => (notFound && notFound.length > 0 ? EXIT_CODES.FAILED : EXIT_CODES.OK);
  if (options.dryRun) {
    const { matched, notFound } = await client.admin({ method: 'POST', path: `${target.path}/replay`, schema: replayDryRunSchema, body: { ...filters, dryRun: true } });
    if (options.json) {
      printJson(io, { dryRun: true, matched, notFound: notFound ?? [] });
    } else {
      printLine(io, `would replay ${deadLetters(matched)} of ${target.name}`);
      notFoundLine(notFound);
      printLine(io, 'dry run: nothing was replayed');
    }
    return exitFor(notFound);
  }

  const started = await client.admin({ method: 'POST', path: `${target.path}/replay`, schema: replayStartedSchema, body: filters });
  // Scripts get the answer at once and follow GET /replays/:replay themselves.
  if (options.json) {
    printJson(io, { ...started, notFound: started.notFound ?? [] });
    return exitFor(started.notFound);
  }
  const outOfOrder = started.outOfOrder ? ' (out of order: this destination is ordered)' : '';
  progress.update(`replay ${started.replay}: ${deadLetters(started.matched)} of ${target.name}`);
  const finished = await waitForReplay(client, started.replay, progress);
  printLine(io, `replayed ${deadLetters(finished.queued)} of ${target.name}: queued again with the same webhook-id${outOfOrder}`);
  if (finished.skipped > 0) printLine(io, `skipped ${finished.skipped}: no longer dead letters when their turn came`);
  notFoundLine(started.notFound);
  printLine(io, `replay ${finished.replay} (GET /replays/${finished.replay})`);
  return exitFor(started.notFound);
}
