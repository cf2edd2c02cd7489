import { trimEventStream } from '@fanout/event-log';
import type { Logger } from '@fanout/observability';
import type { PartitionKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';

export interface StreamRetentionDeps {
  /** A connection for non-blocking commands. */
  readonly writer: Redis;
  readonly partition: PartitionKeys;
  readonly logger: Logger;
  /** Stream entries older than this (ms) are trimmed unless still needed. */
  readonly retentionMs: number;
  /** How often (ms) the stream is trimmed. */
  readonly everyMs: number;
  /** How long event records live, in ms: open deliveries older than that stop holding entries back, and dispatcher dead letters are kept that long. */
  readonly eventRecordTtlMs: number;
}

export interface StreamRetention {
  /** Stops trimming; a trim in flight is abandoned (the next one, in any dispatcher, does its work). */
  stop(): void;
}

/**
 * Trims a partition's event stream now and then every `everyMs` (see `trimEventStream`). Failures are
 * logged and the next round tries again; every dispatcher runs one, and they never conflict:
 * a trim is one script.
 */
export function startStreamRetention({ writer, partition, logger, retentionMs, everyMs, eventRecordTtlMs }: StreamRetentionDeps): StreamRetention {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const trim = async (): Promise<void> => {
    try {
      const result = await trimEventStream(writer, partition, { now: Date.now(), retentionMs, openDeliveryMaxAgeMs: eventRecordTtlMs, deadLetterRetentionMs: eventRecordTtlMs });
      if (stopped) return;
      const { trimmed, minId, deadLettersTrimmed, expiredOpenDeliveries } = result;
      if (expiredOpenDeliveries.length > 0) logger.warn({ deliveries: expiredOpenDeliveries, maxAgeMs: eventRecordTtlMs }, 'retention.open_deliveries_expired');
      if (trimmed > 0 || deadLettersTrimmed > 0) logger.info({ trimmed, minId, deadLettersTrimmed }, 'retention.trimmed');
    } catch (error) {
      if (!stopped) logger.warn({ err: error }, 'retention.failed');
    }
  };
  const round = (): void => {
    void trim().then(() => {
      if (!stopped) timer = setTimeout(round, everyMs);
    });
  };

  round();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
