import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { DeliveryQueue } from '@fanout/queues';
import type { RequestHandler } from 'express';

/** Where Bull Board is served; its pages link to assets and API calls under this path. */
export const BULL_BOARD_PATH = '/admin/queues';

/** Bull Board over every destination queue, to be mounted at BULL_BOARD_PATH. */
export function bullBoardHandler(queues: Iterable<DeliveryQueue>): RequestHandler {
  const serverAdapter = new ExpressAdapter().setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: [...queues].map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'fanout' } },
  });
  // getRouter() is typed `any`; it is an Express app, which is a request handler.
  return serverAdapter.getRouter() as RequestHandler;
}
