/** The HTTP clients the delivery baseline POSTs with (bench/src/baselines/post-loop.ts). */
export const POST_CLIENTS = ['got-stream', 'got-promise', 'got-tuned', 'undici', 'node-http'] as const;
export type PostClient = (typeof POST_CLIENTS)[number];

export interface PostLoopOptions {
  client: PostClient;
  url: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  bodyBytes: number;
}
