import type { ServerResponse } from 'node:http';
import { FanoutError } from '@fanout/core';

/** The request bytes one process holds in memory at once, across every request. */
export interface RequestBytes {
  /** Bytes held now. */
  readonly held: number;
  /**
   * A request's share, given back when its answer is done (or its connection gone): the
   * body stays in memory until the event is stored and answered.
   */
  holdFor(res: ServerResponse): RequestHold;
}

/** What one request holds. */
export interface RequestHold {
  /** Holds `bytes` more, or throws INGRESS_BUSY when the process would then hold more than its cap. */
  take(bytes: number): void;
}

/** @param maxBytes the cap on request bytes held at once by this process (FANOUT_INGRESS_MAX_BUFFERED). */
export function requestBytes(maxBytes: number): RequestBytes {
  let held = 0;
  return {
    get held() {
      return held;
    },
    holdFor(res) {
      let mine = 0;
      res.once('close', () => {
        held -= mine;
        mine = 0;
      });
      return {
        take(bytes) {
          if (held + bytes > maxBytes) {
            throw new FanoutError('INGRESS_BUSY', `this process already holds ${held} bytes of request bodies, of the ${maxBytes} it takes at once; retry shortly`);
          }
          held += bytes;
          mine += bytes;
        },
      };
    },
  };
}
