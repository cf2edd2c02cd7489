import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a destination got: which event (webhook-id) and which client sequence number (from the body). */
export interface ReceivedAttempt {
  readonly destination: string;
  /** The `webhook-id` header; '' when missing. */
  readonly webhookId: string;
  /** `seq` from the JSON body; undefined when the body is not what the load generator sends. */
  readonly seq: number | undefined;
  readonly receivedAt: number;
  /** The sender's port on loopback, to find which process sent it; absent for copies a destination observer found. */
  readonly fromPort?: number;
  /** What the receiver answered: a status, or `hang` (never answered; the sender's timeout ends it). */
  status: number | 'hang';
  /** Unix ms when the answer was sent; undefined while unanswered (and for hangs). */
  answeredAt: number | undefined;
}

/** How the receiver answers one request. */
export type Answer = { readonly status: number; readonly delayMs?: number } | 'hang';
export type AnswerScript = (attempt: Pick<ReceivedAttempt, 'destination' | 'webhookId' | 'seq'>) => Answer;

export interface RecordingReceiver {
  readonly url: string;
  /** The URL of one destination: one path per destination, `/d/<name>`. */
  urlOf(destination: string): string;
  /** Every request to that destination, in arrival order. */
  attempts(destination: string): readonly ReceivedAttempt[];
  /** How many requests arrived, all destinations together. */
  readonly total: number;
  /**
   * The attempts a fault at this moment may interrupt: unanswered ones, and those answered
   * within the last `windowMs` (the sender may not have recorded the outcome yet).
   */
  inFlight(windowMs: number): ReceivedAttempt[];
  /** Replaces how requests are answered (default: 200 at once). */
  answerWith(script: AnswerScript): void;
  close(): Promise<void>;
}

const PATH = /^\/d\/([a-z0-9-]+)$/;

function parseSeq(body: Buffer): number | undefined {
  try {
    const value = (JSON.parse(body.toString('utf8')) as { seq?: unknown }).seq;
    return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** An HTTP server on loopback standing in for every destination of a scenario, recording each request. */
export async function startRecordingReceiver(): Promise<RecordingReceiver> {
  const byDestination = new Map<string, ReceivedAttempt[]>();
  const all: ReceivedAttempt[] = [];
  const open = new Set<ServerResponse>();
  let script: AnswerScript = () => ({ status: 200 });

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const match = PATH.exec((req.url ?? '').split('?')[0] ?? '');
    if (!match || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const destination = match[1]!;
    const header = req.headers['webhook-id'];
    const attempt: ReceivedAttempt = {
      destination,
      webhookId: typeof header === 'string' ? header : '',
      seq: parseSeq(body),
      receivedAt: Date.now(),
      fromPort: req.socket.remotePort ?? 0,
      status: 200,
      answeredAt: undefined,
    };
    const answer = script(attempt);
    attempt.status = answer === 'hang' ? 'hang' : answer.status;
    let list = byDestination.get(destination);
    if (!list) byDestination.set(destination, (list = []));
    list.push(attempt);
    all.push(attempt);
    open.add(res);
    res.once('close', () => open.delete(res));
    if (answer === 'hang') return;
    const send = (): void => {
      attempt.answeredAt = Date.now();
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end('ok');
    };
    if (answer.delayMs) setTimeout(send, answer.delayMs);
    else send();
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
    req.on('error', () => {});
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    urlOf: (destination) => `${url}/d/${destination}`,
    attempts: (destination) => byDestination.get(destination) ?? [],
    get total() {
      return all.length;
    },
    inFlight(windowMs) {
      const since = Date.now() - windowMs;
      const found: ReceivedAttempt[] = [];
      for (const attempt of all) {
        if (attempt.status === 'hang') continue;
        if (attempt.answeredAt === undefined || attempt.answeredAt >= since) found.push(attempt);
      }
      return found;
    },
    answerWith(next) {
      script = next;
    },
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
