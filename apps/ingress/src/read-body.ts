import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { FanoutError, quoted } from '@fanout/core';
import type { RequestHold } from './request-bytes.js';

type Decode = (encoded: Buffer, options: { maxOutputLength: number }) => Promise<Buffer>;

// The Content-Encodings body-parser decodes; zstd only where this Node's zlib has it (22.15+).
const { zstdDecompress } = zlib as { zstdDecompress?: typeof zlib.gunzip };
const decoders = new Map<string, Decode>([
  ['gzip', promisify(zlib.gunzip)],
  ['deflate', promisify(zlib.inflate)],
  ['br', promisify(zlib.brotliDecompress)],
  ...(zstdDecompress ? [['zstd', promisify(zstdDecompress)] as const] : []),
]);

/** How a request's body is read. */
export interface BodyLimits {
  /** The flow's `source.maxBodyBytes`, for the bytes received and for the decoded body. */
  readonly maxBytes: number;
  /** What the request holds of the process's cap on buffered request bytes. */
  readonly hold: RequestHold;
  /** How long the whole body may take to arrive, in ms (FANOUT_BODY_TIMEOUT). */
  readonly timeoutMs: number;
  /** For messages: the flow's name. */
  readonly flow: string;
}

/** The request's Content-Encoding, lower-cased: `identity` when absent. */
export type ContentEncoding = string;

/** The request's Content-Encoding, refused with 400 REQUEST_INVALID before anything is read when fanout cannot decode it. */
export function contentEncodingOf(req: IncomingMessage): ContentEncoding {
  const encoding = req.headers['content-encoding']?.trim().toLowerCase() || 'identity';
  if (encoding !== 'identity' && !decoders.has(encoding)) throw new FanoutError('REQUEST_INVALID', `unsupported content encoding ${quoted(encoding)}`);
  return encoding;
}

/**
 * Reads a request's body as the bytes sent, still encoded, within `limits`:
 * - 413 BODY_TOO_LARGE as soon as the declared Content-Length or the bytes received exceed
 *   the flow's limit;
 * - 503 INGRESS_BUSY when the process would hold more request bytes at once than its cap
 *   (a declared Content-Length is held up front, a chunked body as it arrives);
 * - 408 REQUEST_TIMEOUT when the body has not all arrived within the timeout.
 * Each of these stops reading and closes the connection once answered, so the rest of the
 * upload is never read. raw-body cannot count against a cap shared by every request as the
 * bytes arrive, hence this reader.
 */
export function readRawBody(req: IncomingMessage, res: ServerResponse, limits: BodyLimits): Promise<Buffer> {
  const { maxBytes, hold, timeoutMs, flow } = limits;
  const declaredHeader = req.headers['content-length'];
  const declared = declaredHeader === undefined ? undefined : Number(declaredHeader);
  const refuse = (error: FanoutError): FanoutError => {
    res.setHeader('Connection', 'close');
    return error;
  };
  const tooLarge = (what: string): FanoutError => refuse(new FanoutError('BODY_TOO_LARGE', `${what} exceeds the ${maxBytes}-byte limit of flow ${quoted(flow)}`));
  if (declared !== undefined && declared > maxBytes) return Promise.reject(tooLarge(`Content-Length ${declared}`));
  try {
    if (declared !== undefined) hold.take(declared);
  } catch (error) {
    return Promise.reject(refuse(error as FanoutError));
  }

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (error: FanoutError | undefined): void => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (!error) return resolve(Buffer.concat(chunks, received));
      // Unread bytes stay in the socket, which closes once the answer is written.
      req.pause();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > maxBytes) return finish(tooLarge('the body'));
      try {
        if (declared === undefined) hold.take(chunk.length);
      } catch (error) {
        return finish(refuse(error as FanoutError));
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined);
    const onError = (): void => finish(new FanoutError('REQUEST_INVALID', 'the request broke off before its body was complete'));
    const onClose = (): void => finish(new FanoutError('REQUEST_INVALID', 'the request broke off before its body was complete'));
    const timer = setTimeout(() => finish(refuse(new FanoutError('REQUEST_TIMEOUT', `the body did not arrive within ${timeoutMs} ms`))), timeoutMs);
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/**
 * The body as stored: decoded when it came with a Content-Encoding (the stream entry keeps
 * none), within the flow's limit, and held against the process's cap too.
 */
export async function decodeBody(raw: Buffer, encoding: ContentEncoding, limits: Pick<BodyLimits, 'maxBytes' | 'hold' | 'flow'>): Promise<Buffer> {
  const decode = decoders.get(encoding);
  // Nothing to decode: body-parser, too, accepted a bodyless request whatever its Content-Encoding.
  if (!decode || raw.length === 0) return raw;
  let decoded: Buffer;
  try {
    decoded = await decode(raw, { maxOutputLength: limits.maxBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new FanoutError('BODY_TOO_LARGE', `the decoded ${encoding} body exceeds the ${limits.maxBytes}-byte limit of flow ${quoted(limits.flow)}`);
    }
    throw new FanoutError('REQUEST_INVALID', `the ${encoding} body does not decode: ${(error as Error).message}`, { cause: error });
  }
  limits.hold.take(decoded.length);
  return decoded;
}
