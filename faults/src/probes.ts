/** One HTTP look at a role process from outside, as an operator's tooling would take it. */
export interface ProbeAnswer {
  /** Unix ms the request was sent. */
  readonly at: number;
  /** How long the answer took; the timeout when none came. */
  readonly ms: number;
  /** 0 when no answer came within the timeout (or the connection failed). */
  readonly status: number;
  /** The error code of a fanout error body. */
  readonly code?: string;
  readonly body?: unknown;
}

async function get(url: string, timeoutMs: number, headers: Record<string, string> = {}): Promise<ProbeAnswer> {
  const at = Date.now();
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
    return { at, ms: Date.now() - at, status: response.status, ...(typeof code === 'string' ? { code } : {}), body };
  } catch {
    return { at, ms: Date.now() - at, status: 0 };
  }
}

/** `/readyz`, with its checks (`{ status, checks: { redis, memory, draining, flows } }`). */
export const readiness = (baseUrl: string, timeoutMs = 3_000): Promise<ProbeAnswer> => get(`${baseUrl}/readyz`, timeoutMs);

/** A GET of the admin API with the admin token. */
export const adminGet = (baseUrl: string, path: string, token: string, timeoutMs = 5_000): Promise<ProbeAnswer> => get(`${baseUrl}${path}`, timeoutMs, { authorization: `Bearer ${token}` });

/** The checks of a /readyz answer that are not `ok`, as `name: why`. */
export function failingChecks(answer: ProbeAnswer): string[] {
  const checks = (answer.body as { checks?: Record<string, string> } | undefined)?.checks ?? {};
  return Object.entries(checks)
    .filter(([, value]) => value !== 'ok')
    .map(([name, value]) => `${name}: ${value}`);
}

/** The sum of a Prometheus counter over all its label sets on a process's /metrics; 0 when it is absent. */
export async function counterTotal(baseUrl: string, name: string): Promise<number> {
  const answer = await get(`${baseUrl}/metrics`, 3_000);
  if (typeof answer.body !== 'string') return 0;
  let total = 0;
  for (const line of answer.body.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return total;
}

/**
 * Calls `probe` every `everyMs` (one at a time) until `stop` resolves, and returns every answer:
 * what a load balancer's or an operator's poll would have seen meanwhile.
 */
export async function pollUntil<T extends ProbeAnswer>(probe: () => Promise<T>, everyMs: number, stop: Promise<unknown>): Promise<T[]> {
  const answers: T[] = [];
  let stopped = false;
  void stop.then(() => (stopped = true));
  while (!stopped) {
    const started = Date.now();
    answers.push(await probe());
    const wait = everyMs - (Date.now() - started);
    if (wait > 0 && !stopped) await Promise.race([new Promise((resolve) => setTimeout(resolve, wait)), stop]);
  }
  return answers;
}
