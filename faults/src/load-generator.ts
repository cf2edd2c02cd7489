import { Agent, request } from 'node:http';

/**
 * What the ingress made of one webhook, as the client saw it (Jepsen's ok / fail / info):
 * - `acked`: 202 with the event id; the event must reach every matching destination.
 * - `refused`: the ingress answered before storing anything (404, 413, 503 SHUTTING_DOWN) or
 *   the connection was refused; it must never be delivered.
 * - `indeterminate`: it may or may not have been stored (connection reset, timeout, 503
 *   REDIS_UNAVAILABLE after a write that may still land); a delivery is allowed, not required.
 */
export type SendOutcome =
  | { readonly kind: 'acked'; readonly id: string }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'indeterminate'; readonly reason: string };

export interface LoadOptions {
  /** Base URL of the ingress, read at each request (it may be restarted). */
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
  /**
   * How long a refused request is retried (on the next target, every 100 ms), as a client
   * would: nothing was stored, so a retry cannot store the event twice. Requests in doubt
   * are never retried: a retry could store a second event for the same seq. Default 0.
   */
  readonly retryRefusedMs?: number;
}

export interface Load {
  /** Resolves once every sequence number has an outcome. */
  readonly done: Promise<void>;
  /** Outcome by sequence number, filled as answers come. */
  readonly outcomes: ReadonlyMap<number, SendOutcome>;
  /** Sequence numbers sent so far. */
  readonly sent: number;
  /** The event type of each sequence number sent. */
  readonly types: ReadonlyMap<number, string>;
}

/** The body of one event: its type and its client sequence number. */
export function eventBody(seq: number, type: string): string {
  return JSON.stringify({ type, seq });
}

function classify(status: number, body: string): SendOutcome {
  let parsed: { id?: unknown; error?: { code?: unknown } } = {};
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    // not JSON: classified by status alone
  }
  if (status === 202 && typeof parsed.id === 'string') return { kind: 'acked', id: parsed.id };
  const code = typeof parsed.error?.code === 'string' ? parsed.error.code : `HTTP ${status}`;
  // These are answered before anything is written; every other failure might follow a write.
  if (status === 404 || status === 413 || status === 400 || status === 401 || code === 'SHUTTING_DOWN') return { kind: 'refused', reason: code };
  return { kind: 'indeterminate', reason: code };
}

function send(agent: Agent, url: URL, body: string, timeoutMs: number): Promise<SendOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: SendOutcome): void => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => finish(classify(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
      res.on('error', (error) => finish({ kind: 'indeterminate', reason: `response ${error.message}` }));
    });
    req.setTimeout(timeoutMs, () => {
      finish({ kind: 'indeterminate', reason: 'timeout' });
      req.destroy();
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // Refused means no connection was ever made: nothing can have been stored.
      if (error.code === 'ECONNREFUSED') finish({ kind: 'refused', reason: 'ECONNREFUSED' });
      else finish({ kind: 'indeterminate', reason: error.code ?? error.message });
    });
    req.end(body);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `count` events at a bounded rate and concurrency, each with a unique sequence number, recording each outcome. */
export function startLoad(options: LoadOptions): Load {
  const outcomes = new Map<number, SendOutcome>();
  const types = new Map<number, string>();
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  let sent = 0;
  let inFlight = 0;
  let wake: (() => void) | undefined;

  const sendRetryingRefusals = async (seq: number, type: string): Promise<SendOutcome> => {
    const giveUpAt = Date.now() + (options.retryRefusedMs ?? 0);
    for (;;) {
      const url = new URL(`/webhooks/${options.flow}`, options.target());
      const outcome = await send(agent, url, eventBody(seq, type), options.timeoutMs);
      if (outcome.kind !== 'refused' || Date.now() >= giveUpAt) return outcome;
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
      inFlight += 1;
      sent += 1;
      pending.push(
        sendRetryingRefusals(seq, type).then((outcome) => {
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
    done: run(),
    outcomes,
    types,
    get sent() {
      return sent;
    },
  };
}
