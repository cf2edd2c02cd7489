import { FanoutError } from '@fanout/core';
import type { Flow } from '@fanout/flows';
import express, { type Request, type Response } from 'express';

/** Reads a request's body as the raw bytes sent, within its flow's `source.maxBodyBytes`. */
export type BodyReader = (req: Request, res: Response, flow: Flow) => Promise<Buffer>;

/**
 * One `express.raw` parser per flow, created on the flow's first request and kept as long as
 * the Flow object lives (a reloaded flow is a new object, so its new limit takes effect).
 *
 * Past the limit, body-parser reads the rest of the upload off the wire before it answers.
 * This reader answers 413 as soon as the declared Content-Length or the bytes received
 * exceed the limit, and closes the connection so the rest of the upload is never read.
 * A gzip/deflate/br body is stored decoded (the stream entry keeps no Content-Encoding),
 * and the limit holds for its decoded bytes too.
 */
export function createBodyReader(): BodyReader {
  const parsers = new WeakMap<Flow, express.RequestHandler>();
  const parserFor = (flow: Flow): express.RequestHandler => {
    let parser = parsers.get(flow);
    if (!parser) {
      parser = express.raw({ type: () => true, limit: flow.source.maxBodyBytes });
      parsers.set(flow, parser);
    }
    return parser;
  };

  return (req, res, flow) =>
    new Promise((resolve, reject) => {
      const limit = flow.source.maxBodyBytes;
      const refuse = (what: string): void => {
        res.setHeader('Connection', 'close');
        reject(new FanoutError('BODY_TOO_LARGE', `${what} exceeds the ${limit}-byte limit of flow "${flow.name}"`));
      };
      const declared = Number(req.get('content-length'));
      if (declared > limit) return refuse(`Content-Length ${declared}`);

      let received = 0;
      const countBytes = (chunk: Buffer): void => {
        received += chunk.length;
        if (received > limit) {
          req.off('data', countBytes);
          refuse('the body');
        }
      };
      req.on('data', countBytes);
      // Once refused, the promise is settled and what body-parser reports afterwards is moot.
      parserFor(flow)(req, res, (error?: unknown) => {
        req.off('data', countBytes);
        if (error !== undefined) reject(error);
        // Without Content-Length or Transfer-Encoding a request has no body and body-parser leaves req.body unset.
        else resolve(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
      });
    });
}
