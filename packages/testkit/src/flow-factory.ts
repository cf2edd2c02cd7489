import { dispatchPlanOf, type Destination, type Flow, type HttpDestination } from '@fanout/flows';

export type DestinationOverrides = Partial<Omit<HttpDestination, 'name' | 'url' | 'type'>> & { name: string; url: string };

/** An http destination with test-friendly defaults: 3 attempts, 50 ms fixed backoff, 2 s timeout. */
export function httpDestination({ name, url, ...overrides }: DestinationOverrides): HttpDestination {
  return {
    type: 'http',
    name,
    url,
    headers: {},
    timeoutMs: 2_000,
    retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 50, maxDelayMs: 1_000, jitter: 'none' } },
    concurrency: 5,
    ordering: 'none',
    deadLetter: { retentionMs: 86_400_000 },
    ...overrides,
  };
}

export function testFlow(name: string, destinations: readonly Destination[], maxBodyBytes = 1_048_576): Flow {
  return { name, version: dispatchPlanOf({ name, destinations }).version, source: { maxBodyBytes }, destinations };
}
