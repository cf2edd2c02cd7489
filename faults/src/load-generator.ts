import { Agent, request } from 'node:http';

/**
 * What the ingress made of one webhook, as the client saw it (Jepsen's ok / fail / info):
 * - `acked`: 202 with the event id (or 200 with the first event's id, for a repeated
 *   `webhook-id`); the event must reach every destination it is meant for.
 * - `refused`: the ingress said nothing was stored (404, 413, 400, 401, 503 SHUTTING_DOWN,
 *   REDIS_UNAVAILABLE, REDIS_MEMORY_FULL) or the connection was refused; it must never be
 *   delivered, which is how "every answer is true" is checked.
 * - `indeterminate`: it may or may not have been stored (connection reset, timeout, 503
 *   REDIS_TIMEOUT, anything else); a delivery is allowed, not required.
 *
 * `via` is the ingress (its base URL) that answered, or for an event in doubt the one it was
 * sent to: the flow version there is the one the event is meant to be delivered by.
 */
export type SendOutcome = Verdict & { readonly via: string };

/** What one answer says of the event, before knowing which ingress it came from. */
type Verdict =
  | { readonly kind: 'acked'; readonly id: string; readonly replayed?: boolean }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'indeterminate'; readonly reason: string };

/** One answer of the ingress (or of the network), every try of every seq. */
export interface IngressAnswer {
  readonly seq: number;
  /** The ingress's base URL. */
  readonly target: string;
  readonly sentAt: number;
  readonly answeredAt: number;
  /** The HTTP status; 0 when there was none (refused connection, reset, timeout). */
  readonly status: number;
  /** The error code of the body (`REDIS_TIMEOUT`…), `HTTP <status>`, `202`/`200`, or the socket's error (`ECONNRESET`, `timeout`). */
  readonly code: string;
  /** The error message of the body, when there was one. */
  readonly message?: string;
  readonly kind: SendOutcome['kind'];
}

export interface LoadOptions {
  /** Base URL of the ingress for a new request, read at each request (it may be restarted, or the set may change). */
  readonly target: () => string;
  readonly flow: string;
  /** Sequence numbers 1..count are sent, each once. */
  readonly count: number;
  /** Events per second at most. */
  readonly ratePerSecond: number;
  /** Requests in flight at most. */
  readonly concurrency: number;
  /** A request without an answer this long is indeterminate. */
  readonly timeoutMs: number;
  /** The event type written into the body (`$.type`), for destinations with filters. */
  readonly typeOf: (seq: number) => string;
  /** The ordering key written into the body (`$.key`), for destinations ordered by it. Default: none. */
  readonly keyOf?: (seq: number) => string;
  /**
   * How long a refused request is retried (on the next target, every 100 ms), as a client
   * would: nothing was stored, so a retry cannot store the event twice. Default 0.
   */
  readonly retryRefusedMs?: number;
  /**
   * Send `webhook-id: <webhookIdOf(flow, seq)>` with every request, as a Standard Webhooks
   * sender does: the ingress takes it as the idempotency key of a flow that sets none, so a
   * request in doubt can be sent again safely. Default false.
   */
  readonly webhookIds?: boolean;
  /**
   * With `webhookIds`: how long a request in doubt is sent again (to the same ingress, after
   * its 1 s Retry-After) until it is answered 202 or 200; it stays in doubt if none comes.
   * Without webhook-ids a request in doubt is never sent again (a retry could store a second
   * event for the same seq). Default 0.
   */
  readonly retryInDoubtMs?: number;
}

export interface Load {
  readonly flow: string;
  /** Resolves once every sequence number has an outcome. */
  readonly done: Promise<void>;
  /** Outcome by sequence number, filled as answers come. */
  readonly outcomes: ReadonlyMap<number, SendOutcome>;
  /** Sequence numbers sent so far. */
  readonly sent: number;
  /** The event type of each sequence number sent. */
  readonly types: ReadonlyMap<number, string>;
  /** The ordering key of each sequence number sent, with `keyOf`. */
  readonly keys: ReadonlyMap<number, string>;
  /** Every answer, in the order they came. */
  readonly answers: readonly IngressAnswer[];
}

/** How many answers had each code. */
export function answersByCode(answers: readonly IngressAnswer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) counts[answer.code] = (counts[answer.code] ?? 0) + 1;
  return counts;
}

/** The body of one event: its type, its client sequence number and, for keyed ordering, its key. */
export function eventBody(seq: number, type: string, key?: string): string {
  return JSON.stringify(key === undefined ? { type, seq } : { type, seq, key });
}

/** The sender's id of one event when the load sends webhook-ids. */
export const webhookIdOf = (flow: string, seq: number): string => `msg_${flow}_${seq}`;

/** Codes that say the ingress stored nothing. Every other failure might follow a write. */
const NOT_STORED = new Set(['SHUTTING_DOWN', 'REDIS_UNAVAILABLE', 'REDIS_MEMORY_FULL', 'REDIS_READONLY', 'FLOW_NOT_FOUND', 'BODY_TOO_LARGE', 'REQUEST_INVALID', 'SIGNATURE_INVALID']);

interface Answered {
  readonly outcome: Verdict;
  readonly status: number;
  readonly code: string;
  readonly message?: string;
}

function classify(status: number, body: string): Answered {
  let parsed: { id?: unknown; error?: { code?: unknown; message?: unknown } } = {};
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    // not JSON: classified by status alone
  }
  if ((status === 202 || status === 200) && typeof parsed.id === 'string') {
    return { outcome: { kind: 'acked', id: parsed.id, ...(status === 200 ? { replayed: true } : {}) }, status, code: String(status) };
  }
  const code = typeof parsed.error?.code === 'string' ? parsed.error.code : `HTTP ${status}`;
  const message = typeof parsed.error?.message === 'string' ? parsed.error.message : undefined;
  const refused = NOT_STORED.has(code) || status === 404 || status === 413 || status === 400 || status === 401;
  return { outcome: { kind: refused ? 'refused' : 'indeterminate', reason: code }, status, code, ...(message !== undefined ? { message } : {}) };
}

function send(agent: Agent, url: URL, body: string, headers: Record<string, string>, timeoutMs: number): Promise<Answered> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answered: Answered): void => {
      if (settled) return;
      settled = true;
      resolve(answered);
    };
    const noAnswer = (kind: 'refused' | 'indeterminate', reason: string): Answered => ({ outcome: { kind, reason }, status: 0, code: reason });
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => finish(classify(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
      res.on('error', (error) => finish(noAnswer('indeterminate', `response ${error.message}`)));
    });
    req.setTimeout(timeoutMs, () => {
      finish(noAnswer('indeterminate', 'timeout'));
      req.destroy();
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // Refused means no connection was ever made: nothing can have been stored.
      if (error.code === 'ECONNREFUSED') finish(noAnswer('refused', 'ECONNREFUSED'));
      else finish(noAnswer('indeterminate', error.code ?? error.message));
    });
    req.end(body);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How long a client waits before sending a request in doubt again: the ingress's Retry-After. */
const IN_DOUBT_RETRY_MS = 1_000;

/** Sends `count` events at a bounded rate and concurrency, each with a unique sequence number, recording each outcome. */
export function startLoad(options: LoadOptions): Load {
  if ((options.retryInDoubtMs ?? 0) > 0 && !options.webhookIds) throw new Error('retryInDoubtMs needs webhookIds: without them a retry may store a second event');
  const outcomes = new Map<number, SendOutcome>();
  const types = new Map<number, string>();
  const keys = new Map<number, string>();
  const answers: IngressAnswer[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  let sent = 0;
  let inFlight = 0;
  let wake: (() => void) | undefined;

  const sendOne = async (seq: number, type: string, key: string | undefined): Promise<SendOutcome> => {
    const headers: Record<string, string> = options.webhookIds ? { 'webhook-id': webhookIdOf(options.flow, seq) } : {};
    const body = eventBody(seq, type, key);
    const giveUpRefusedAt = Date.now() + (options.retryRefusedMs ?? 0);
    let giveUpInDoubtAt: number | undefined;
    /** Once a try is in doubt, the event may be stored there: later tries go to that ingress, and an outcome is in doubt at best. */
    let doubt: { via: string; reason: string } | undefined;
    for (;;) {
      const target = doubt?.via ?? options.target();
      const sentAt = Date.now();
      const answered = await send(agent, new URL(`/webhooks/${options.flow}`, target), body, headers, options.timeoutMs);
      answers.push({ seq, target, sentAt, answeredAt: Date.now(), status: answered.status, code: answered.code, kind: answered.outcome.kind, ...(answered.message !== undefined ? { message: answered.message } : {}) });
      const outcome: SendOutcome = { ...answered.outcome, via: target };
      if (outcome.kind === 'acked') return outcome;
      if (outcome.kind === 'indeterminate' && !doubt) {
        doubt = { via: target, reason: outcome.reason };
        giveUpInDoubtAt = Date.now() + (options.retryInDoubtMs ?? 0);
      }
      if (doubt) {
        if (Date.now() >= giveUpInDoubtAt!) return { kind: 'indeterminate', reason: doubt.reason, via: doubt.via };
        await sleep(IN_DOUBT_RETRY_MS);
        continue;
      }
      if (Date.now() >= giveUpRefusedAt) return outcome;
      await sleep(100);
    }
  };

  const run = async (): Promise<void> => {
    const startedAt = Date.now();
    const pending: Promise<void>[] = [];
    for (let seq = 1; seq <= options.count; seq += 1) {
      const due = startedAt + ((seq - 1) * 1_000) / options.ratePerSecond;
      if (due > Date.now()) await sleep(due - Date.now());
      while (inFlight >= options.concurrency) await new Promise<void>((resolve) => (wake = resolve));
      const type = options.typeOf(seq);
      types.set(seq, type);
      const key = options.keyOf?.(seq);
      if (key !== undefined) keys.set(seq, key);
      inFlight += 1;
      sent += 1;
      pending.push(
        sendOne(seq, type, key).then((outcome) => {
          outcomes.set(seq, outcome);
          inFlight -= 1;
          wake?.();
          wake = undefined;
        }),
      );
    }
    await Promise.all(pending);
    agent.destroy();
  };

  return {
    flow: options.flow,
    done: run(),
    outcomes,
    types,
    keys,
    answers,
    get sent() {
      return sent;
    },
  };
}
