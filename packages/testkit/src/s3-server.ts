import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { findFreePort } from '@fanout/redis-server';

/** s3rver's fixed key pair: it checks every request's signature against it. */
export const S3_SERVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** An object as the store holds it. */
export interface StoredObject {
  readonly key: string;
  readonly body: Buffer;
  readonly contentType: string | undefined;
  readonly metadata: Readonly<Record<string, string>>;
}

/** An S3-protocol server (s3rver) on loopback, as a child process that can be stopped and started again on its port and data. */
export interface S3Server {
  /** `http://127.0.0.1:<port>`: a destination's `endpoint`. */
  readonly url: string;
  readonly port: number;
  /** A client for the test's own reads and writes (path-style, s3rver's keys). */
  readonly client: S3Client;
  createBucket(name: string): Promise<void>;
  /** The keys under the bucket (and prefix), in key order, every page of the listing. */
  keys(bucket: string, prefix?: string): Promise<string[]>;
  /** One object, with its bytes. */
  object(bucket: string, key: string): Promise<StoredObject>;
  /** Every object under the bucket (and prefix), key order, with its bytes. */
  objects(bucket: string, prefix?: string): Promise<StoredObject[]>;
  /** Deletes the bucket and everything in it. */
  deleteBucket(name: string): Promise<void>;
  /** Stops answering (SIGKILL); its objects stay on disk for `start`. */
  stop(): Promise<void>;
  /** Starts again on the same port and data. */
  start(): Promise<void>;
  /** Stops it for good and removes its data. */
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
const S3RVER_BIN = join(require.resolve('s3rver/package.json'), '..', 'bin', 's3rver.js');
const STARTUP_MS = 15_000;

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts s3rver on a free port with a data folder of its own. Under Node ≥ 17 it runs with
 * `--openssl-legacy-provider`: its listings hash continuation tokens with an algorithm
 * OpenSSL 3 keeps there, and a listing of more than one page fails without it.
 */
export async function startS3Server(): Promise<S3Server> {
  const dir = await mkdtemp(join(tmpdir(), 'fanout-test-s3-'));
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const started = spawn(process.execPath, ['--openssl-legacy-provider', S3RVER_BIN, '--directory', dir, '--address', '127.0.0.1', '--port', String(port), '--silent', '--no-vhost-buckets'], { stdio: 'ignore' });
    child = started;
    const deadline = Date.now() + STARTUP_MS;
    while (!(await answers(url))) {
      if (started.exitCode !== null) throw new Error(`s3rver exited with code ${started.exitCode} before answering on ${url}`);
      if (Date.now() > deadline) throw new Error(`s3rver did not answer on ${url} within ${STARTUP_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };

  await start();
  const client = new S3Client({ region: 'us-east-1', endpoint: url, forcePathStyle: true, credentials: S3_SERVER_CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const keysUnder = async (bucket: string, prefix?: string): Promise<string[]> => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ...(prefix === undefined ? {} : { Prefix: prefix }), ...(token === undefined ? {} : { ContinuationToken: token }) }));
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys;
  };

  const objectAt = async (bucket: string, key: string): Promise<StoredObject> => {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = Buffer.from(await object.Body!.transformToByteArray());
    return { key, body, contentType: object.ContentType, metadata: object.Metadata ?? {} };
  };

  return {
    url,
    port,
    client,
    keys: keysUnder,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    object: objectAt,
    async objects(bucket, prefix) {
      return Promise.all((await keysUnder(bucket, prefix)).map((key) => objectAt(bucket, key)));
    },
    async deleteBucket(name) {
      const keys = await keysUnder(name).catch(() => []);
      for (let i = 0; i < keys.length; i += 1_000) {
        await client.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: keys.slice(i, i + 1_000).map((Key) => ({ Key })) } }));
      }
      await client.send(new DeleteBucketCommand({ Bucket: name })).catch(() => {});
    },
    stop,
    start,
    async close() {
      client.destroy();
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
