import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { FanoutError } from '@fanout/core';
import type { Flow } from '@fanout/flows';
import type { Request, Response } from 'express';
import getRawBody from 'raw-body';

type Decode = (encoded: Buffer, options: { maxOutputLength: number }) => Promise<Buffer>;

// The Content-Encodings body-parser decodes; zstd only where this Node's zlib has it (22.15+).
const { zstdDecompress } = zlib as { zstdDecompress?: typeof zlib.gunzip };
const decoders = new Map<string, Decode>([
  ['gzip', promisify(zlib.gunzip)],
  ['deflate', promisify(zlib.inflate)],
  ['br', promisify(zlib.brotliDecompress)],
  ...(zstdDecompress ? [['zstd', promisify(zstdDecompress)] as const] : []),
]);

/**
 * Reads a request's body as the raw bytes sent, within its flow's `source.maxBodyBytes`.
 *
 * It answers 413 as soon as the declared Content-Length or the bytes received exceed the
 * limit, and closes the connection so the rest of the upload is never read (express.raw
 * would read it all off the wire first).
 * A gzip/deflate/br body is stored decoded (the stream entry keeps no Content-Encoding),
 * and the limit holds for its encoded and its decoded bytes.
 */
export async function readBody(req: Request, res: Response, flow: Flow): Promise<Buffer> {
  const limit = flow.source.maxBodyBytes;
  const refuse = (what: string): FanoutError => {
    res.setHeader('Connection', 'close');
    return new FanoutError('BODY_TOO_LARGE', `${what} exceeds the ${limit}-byte limit of flow "${flow.name}"`);
  };
  const length = req.headers['content-length'];
  if (Number(length) > limit) throw refuse(`Content-Length ${length}`);
  const encoding = req.headers['content-encoding']?.toLowerCase() ?? 'identity';
  const decode = decoders.get(encoding);
  if (!decode && encoding !== 'identity') throw new FanoutError('REQUEST_INVALID', `unsupported content encoding "${encoding}"`);

  let body: Buffer;
  try {
    // On error raw-body pauses the request, so the rest of an oversized upload stays unread.
    body = await getRawBody(req, { length: length ?? null, limit });
  } catch (error) {
    if ((error as { type?: unknown }).type === 'entity.too.large') throw refuse('the body');
    throw error;
  }
  // Nothing to decode: body-parser, too, accepted a bodyless request whatever its Content-Encoding.
  if (!decode || body.length === 0) return body;
  try {
    return await decode(body, { maxOutputLength: limit });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw refuse(`the decoded ${encoding} body`);
    throw new FanoutError('REQUEST_INVALID', `the ${encoding} body does not decode: ${(error as Error).message}`, { cause: error });
  }
}
