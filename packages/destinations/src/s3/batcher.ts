/** When a batch is written: at whichever limit comes first. */
export interface BatchLimits {
  readonly maxEvents: number;
  /** Bytes of the members' sizes together. */
  readonly maxBytes: number;
  /** After the first member joined, ms. */
  readonly maxWaitMs: number;
}

/** One member of a batch, as its write sees it. */
export interface BatchMember<T> {
  readonly item: T;
  readonly bytes: number;
}

/** What a member's wait came to: its batch's write result, or that it left before the write (shutdown). */
export type Joined<R> = { readonly kind: 'written'; readonly result: R } | { readonly kind: 'left' };

export interface Batcher<T, R> {
  /**
   * Joins the open batch (a new one when it is full, or when `bytes` would take it past
   * maxBytes) and resolves with its write's result. Leaves it, resolving `left`, when
   * `signal` aborts before the write starts; once the write started, it is aborted only when
   * every member's signal did.
   */
  join(item: T, bytes: number, signal: AbortSignal): Promise<Joined<R>>;
  /** Writes the open batch now, and from now on every batch as soon as it is joined (a stopping worker takes no more jobs). */
  drain(): void;
}

interface OpenBatch<T, R> {
  readonly members: { readonly member: BatchMember<T>; readonly settle: (joined: Joined<R>) => void; readonly signal: AbortSignal; readonly onAbort: () => void }[];
  bytes: number;
  timer?: NodeJS.Timeout;
  sealed: boolean;
}

/**
 * Collects items into batches and writes each once: at maxEvents, at maxBytes, or maxWait
 * after its first item, whichever comes first. Every member of a batch gets the same result.
 * Batches are written as they fill, several at once if need be; the writer must not throw
 * (its failures are results).
 */
export function createBatcher<T, R>(limits: BatchLimits, write: (members: readonly BatchMember<T>[], signal: AbortSignal) => Promise<R>): Batcher<T, R> {
  let open: OpenBatch<T, R> | undefined;
  let draining = false;

  const seal = (batch: OpenBatch<T, R>): void => {
    if (batch.sealed) return;
    batch.sealed = true;
    clearTimeout(batch.timer);
    if (open === batch) open = undefined;
    const members = batch.members.filter(({ signal }) => !signal.aborted);
    for (const { signal, onAbort } of batch.members) signal.removeEventListener('abort', onAbort);
    if (members.length === 0) return;
    const abort = new AbortController();
    let givenUp = 0;
    const onGiveUp = (): void => void (++givenUp === members.length && abort.abort());
    for (const { signal } of members) signal.addEventListener('abort', onGiveUp, { once: true });
    void write(
      members.map(({ member }) => member),
      abort.signal,
    ).then((result) => {
      for (const { settle, signal } of members) {
        signal.removeEventListener('abort', onGiveUp);
        settle({ kind: 'written', result });
      }
    });
  };

  return {
    join(item, bytes, signal) {
      if (open && open.members.length > 0 && open.bytes + bytes > limits.maxBytes) seal(open);
      const batch = open ?? (open = { members: [], bytes: 0, sealed: false });
      return new Promise<Joined<R>>((settle) => {
        const onAbort = (): void => {
          const index = batch.members.findIndex((entry) => entry.signal === signal && entry.settle === settle);
          if (batch.sealed || index < 0) return;
          const [left] = batch.members.splice(index, 1);
          batch.bytes -= left!.member.bytes;
          // An emptied batch is dropped: its timer would write nothing, and keep the process up until then.
          if (batch.members.length === 0) {
            clearTimeout(batch.timer);
            if (open === batch) open = undefined;
          }
          settle({ kind: 'left' });
        };
        if (signal.aborted) return settle({ kind: 'left' });
        signal.addEventListener('abort', onAbort, { once: true });
        batch.members.push({ member: { item, bytes }, settle, signal, onAbort });
        batch.bytes += bytes;
        if (batch.members.length >= limits.maxEvents || batch.bytes >= limits.maxBytes) seal(batch);
        // Draining, members joining in the same tick still share a batch.
        else if (draining) queueMicrotask(() => seal(batch));
        else batch.timer ??= setTimeout(() => seal(batch), limits.maxWaitMs);
      });
    },
    drain() {
      draining = true;
      if (open) seal(open);
    },
  };
}
