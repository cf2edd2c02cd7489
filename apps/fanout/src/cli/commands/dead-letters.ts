import { deadLetterPageSchema, MAX_DEAD_LETTER_PAGE, MAX_REPLAY_IDS, replayResultSchema, type DeadLetter, type ReplayResult } from '@fanout/dashboard';
import type { DeploymentClient } from '../deployment-client.js';
import { EXIT_CODES, usageError, type ExitCode } from '../exit-codes.js';
import { formatTable, printJson, printLine, progressLine, type CliIo, type Column, type Progress } from '../output.js';

export interface DeadLettersOptions {
  readonly limit: number;
  readonly offset: number;
  readonly replay?: true | undefined;
  /** Comma-separated event ids. */
  readonly ids?: string | undefined;
  readonly dryRun?: true | undefined;
  readonly json?: true | undefined;
}

/** A whole dead-letter queue may take minutes to replay in one request. */
const REPLAY_TIMEOUT_MS = 15 * 60_000;
/** How often the dead letters are counted while a whole queue replays on a terminal, in ms, for the progress line. */
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
  return ids;
}

const page = (target: Target, limit: number, offset: number) => target.client.admin({ path: `${target.path}?limit=${limit}&offset=${offset}`, schema: deadLetterPageSchema });

/** Every dead letter of the destination, page by page. */
async function listAll(target: Target, progress: Progress): Promise<DeadLetter[]> {
  const all: DeadLetter[] = [];
  for (let offset: number | null = 0; offset !== null; ) {
    const { items, total, nextOffset } = await page(target, MAX_DEAD_LETTER_PAGE, offset);
    all.push(...items);
    progress.update(`listing dead letters: ${all.length}/${total}`);
    offset = nextOffset;
  }
  progress.done();
  return all;
}

/** The dry run is done here, by listing: the admin API has no dry run of its own yet. */
async function dryRun(target: Target, ids: readonly string[] | undefined, progress: Progress): Promise<{ matched: DeadLetter[]; notFound: string[] }> {
  const all = await listAll(target, progress);
  if (ids === undefined) return { matched: all, notFound: [] };
  const byId = new Map(all.map((deadLetter) => [deadLetter.eventId, deadLetter]));
  return { matched: ids.flatMap((id) => byId.get(id) ?? []), notFound: ids.filter((id) => !byId.has(id)) };
}

/** Named ids go in requests of at most MAX_REPLAY_IDS, so progress is exact and no request is refused for its size. */
async function replayIds(target: Target, ids: readonly string[], progress: Progress): Promise<ReplayResult> {
  let queued = 0;
  const notFound: string[] = [];
  for (let start = 0; start < ids.length; start += MAX_REPLAY_IDS) {
    progress.update(`replaying: ${start}/${ids.length} ids`);
    const result = await target.client.admin({ method: 'POST', path: `${target.path}/replay`, schema: replayResultSchema, body: { ids: ids.slice(start, start + MAX_REPLAY_IDS) } });
    queued += result.queued;
    notFound.push(...result.notFound);
  }
  progress.done();
  return { queued, notFound };
}

/** The whole queue is replayed by the admin API in one request; on a terminal, the progress line counts what has left the dead letters meanwhile. */
async function replayAll(target: Target, progress: Progress): Promise<ReplayResult> {
  const replay = () => target.client.admin({ method: 'POST', path: `${target.path}/replay`, schema: replayResultSchema, timeoutMs: REPLAY_TIMEOUT_MS });
  if (!progress.shown) return replay();
  const { total } = await page(target, 1, 0);
  let finished = false;
  progress.update(`replaying ${deadLetters(total)}`);
  const ticker = setInterval(() => {
    void page(target, 1, 0).then(
      ({ total: left }) => finished || progress.update(`replaying: ${Math.max(total - left, 0)}/${total} dead letters back in the queue`),
      () => {},
    );
  }, PROGRESS_POLL_MS);
  try {
    return await replay();
  } finally {
    finished = true;
    clearInterval(ticker);
    progress.done();
  }
}

/**
 * `fanout dead-letters <flow> <destination>`: a page of the destination's dead letters, or with
 * `--replay` every one of them (or `--ids`) sent again with the same webhook-id; `--dry-run`
 * says what would be replayed. Exit 1 when some of the named ids are not dead letters.
 */
export async function deadLettersCommand(flow: string, destination: string, options: DeadLettersOptions, client: DeploymentClient, io: CliIo): Promise<ExitCode> {
  if (!options.replay && (options.ids !== undefined || options.dryRun)) throw usageError('--ids and --dry-run go with --replay');
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

  if (options.dryRun) {
    const { matched, notFound } = await dryRun(target, ids, progress);
    if (options.json) {
      printJson(io, { dryRun: true, matched: matched.length, deadLetters: matched, notFound });
    } else {
      if (matched.length > 0) printLine(io, formatTable(COLUMNS, matched));
      printLine(io, `would replay ${deadLetters(matched.length)} of ${target.name}`);
      if (notFound.length > 0) printLine(io, `not dead letters of ${target.name}: ${notFound.join(', ')}`);
      printLine(io, 'dry run: nothing was replayed (listed by the CLI: the admin API has no dry run yet)');
    }
    return notFound.length > 0 ? EXIT_CODES.FAILED : EXIT_CODES.OK;
  }

  const result = ids === undefined ? await replayAll(target, progress) : await replayIds(target, ids, progress);
  if (options.json) {
    printJson(io, result);
  } else {
    printLine(io, `replayed ${deadLetters(result.queued)} of ${target.name}: queued again with the same webhook-id`);
    if (result.notFound.length > 0) printLine(io, `not dead letters of ${target.name}: ${result.notFound.join(', ')}`);
  }
  return result.notFound.length > 0 ? EXIT_CODES.FAILED : EXIT_CODES.OK;
}
