import { gunzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { createS3Kind, type AttemptReport, type DeliveryAttempt, type DestinationKind } from '@fanout/destinations';
import { parseFlowDocuments, type S3Destination } from '@fanout/flows';
import { S3_SERVER_CREDENTIALS, s3Destination, startS3Server, uniqueName, type S3Server } from '@fanout/testkit';

const RECEIVED_AT = Date.parse('2026-03-01T23:59:59.500Z');

describe('the s3 kind, against s3rver', () => {
  let server: S3Server;
  let kind: DestinationKind<S3Destination>;
  const buckets: string[] = [];
  beforeAll(async () => {
    server = await startS3Server();
    kind = createS3Kind();
  }, 30_000);
  afterAll(async () => {
    await kind.close();
    for (const bucket of buckets) await server.deleteBucket(bucket);
    await server.close();
  });

  const bucket = async (): Promise<string> => {
    const name = uniqueName('fanout-test');
    await server.createBucket(name);
    buckets.push(name);
    return name;
  };
  const attempt = (overrides: Partial<DeliveryAttempt> = {}): DeliveryAttempt => ({
    eventId: newEventId(),
    flow: 'payments',
    receivedAt: RECEIVED_AT,
    body: Buffer.from('{"type":"payment.succeeded"}'),
    contentType: 'application/json',
    attempt: 1,
    startedAt: Date.now(),
    signal: new AbortController().signal,
    ...overrides,
  });
  const to = (name: string, overrides: Partial<S3Destination> = {}): S3Destination =>
    s3Destination({ name: 'archive', bucket: name, prefix: 'payments/', endpoint: server.url, credentials: S3_SERVER_CREDENTIALS, ...overrides });

  describe('one object per event', () => {
    it('writes the body byte for byte with the event content type and webhook-id metadata, under its date', async () => {
      const name = await bucket();
      const body = Buffer.from([0x00, 0xff, 0x0a, 0x0d, 0xc3, 0x28, 0x7b, ...Buffer.from('tail')]);
      const sent = attempt({ body, contentType: 'application/octet-stream; charset=binary' });
      const report = await kind.client(to(name)).deliver(sent);
      expect(report).toMatchObject({ outcome: { kind: 'delivered' }, statusCode: 200 });
      const [object, ...more] = await server.objects(name);
      expect(more).toEqual([]);
      expect(object!.key).toBe(`payments/2026/03/01/${sent.eventId}`);
      expect(object!.body.equals(body)).toBe(true);
      expect(object!.contentType).toBe('application/octet-stream; charset=binary');
      expect(object!.metadata).toEqual({ 'webhook-id': sent.eventId });
    });

    it('writes for a destination as a flow file loads it, credentials frozen', async () => {
      const name = await bucket();
      const yaml = `apiVersion: fanout.dev/v1\nkind: DeliveryFlow\nmetadata: { name: payments }\nspec:\n  destinations:\n    - { name: archive, type: s3, bucket: ${name}, endpoint: "${server.url}", credentials: { accessKeyId: S3RVER, secretAccessKey: S3RVER } }\n`;
      const [flow] = parseFlowDocuments(yaml, 'payments.yaml', {});
      expect(Object.isFrozen((flow!.destinations[0] as S3Destination).credentials)).toBe(true);
      const own = createS3Kind();
      expect((await own.client(flow!.destinations[0] as S3Destination).deliver(attempt())).outcome).toEqual({ kind: 'delivered' });
      await own.close();
    });

    it('takes credentials from the AWS default chain when the destination has none', async () => {
      const name = await bucket();
      const saved = { id: process.env['AWS_ACCESS_KEY_ID'], secret: process.env['AWS_SECRET_ACCESS_KEY'] };
      process.env['AWS_ACCESS_KEY_ID'] = S3_SERVER_CREDENTIALS.accessKeyId;
      process.env['AWS_SECRET_ACCESS_KEY'] = S3_SERVER_CREDENTIALS.secretAccessKey;
      const own = createS3Kind();
      try {
        const { credentials: _none, ...withoutCredentials } = to(name);
        expect((await own.client(withoutCredentials).deliver(attempt())).outcome).toEqual({ kind: 'delivered' });
      } finally {
        await own.close();
        for (const [variable, value] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
          if (value === undefined) delete process.env[variable];
          else process.env[variable] = value;
        }
      }
      expect(await server.keys(name)).toHaveLength(1);
    });

    it('writes a large body exact (no aws-chunked framing stored with it)', async () => {
      const name = await bucket();
      const body = Buffer.alloc(300_000, 'x');
      body.write('start', 0);
      body.write('end', body.length - 3);
      const sent = attempt({ body, contentType: 'text/plain' });
      expect((await kind.client(to(name)).deliver(sent)).outcome).toEqual({ kind: 'delivered' });
      const [object] = await server.objects(name);
      expect(object!.body.length).toBe(body.length);
      expect(object!.body.equals(body)).toBe(true);
    });

    it('writes a repeat to the same key', async () => {
      const name = await bucket();
      const sent = attempt();
      const client = kind.client(to(name));
      await client.deliver(sent);
      await client.deliver({ ...sent, attempt: 2 });
      expect((await server.objects(name)).map(({ key }) => key)).toEqual([`payments/2026/03/01/${sent.eventId}`]);
    });

    it('dead-letters a missing bucket at once, naming it', async () => {
      const report = await kind.client(to(uniqueName('no-such-bucket'))).deliver(attempt());
      expect(report).toMatchObject({ outcome: { kind: 'dead', reason: 'S3 NoSuchBucket (HTTP 404)' }, statusCode: 404 });
    });

    it('dead-letters unknown credentials at once', async () => {
      const name = await bucket();
      const report = await kind.client(to(name, { credentials: { accessKeyId: 'UNKNOWN', secretAccessKey: 'unknown-s3cr3t' } })).deliver(attempt());
      expect(report).toMatchObject({ outcome: { kind: 'dead', reason: 'S3 InvalidAccessKeyId (HTTP 403)' }, statusCode: 403 });
      expect(JSON.stringify(report)).not.toContain('unknown-s3cr3t');
    });

    it('retries when the store does not answer', async () => {
      const report = await kind.client(to('any', { endpoint: 'http://127.0.0.1:9' })).deliver(attempt());
      expect(report.outcome).toEqual({ kind: 'retry', reason: 'ECONNREFUSED' });
    });
  });

  describe('batches', () => {
    const batched = (name: string, batch: Partial<NonNullable<S3Destination['batch']>> = {}, overrides: Partial<S3Destination> = {}): S3Destination =>
      to(name, { batch: { maxEvents: 3, maxBytes: 1_048_576, maxWaitMs: 60_000, ...batch }, concurrency: 10, ...overrides });
    const lines = (body: Buffer): Record<string, unknown>[] => body.toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

    it('writes maxEvents events as one NDJSON object named by its first and last ids, and delivers each when it is written', async () => {
      const name = await bucket();
      const client = kind.client(batched(name));
      const sent = [attempt({ body: Buffer.from('{"n":1}') }), attempt({ body: Buffer.from('plain text'), contentType: 'text/plain' }), attempt({ body: Buffer.from('{\n "n": 3\n}') })];
      const reports = await Promise.all(sent.map((one) => client.deliver(one)));
      const [object, ...more] = await server.objects(name);
      expect(more).toEqual([]);
      const ids = sent.map(({ eventId }) => eventId).sort();
      expect(object!.key).toBe(`payments/2026/03/01/${ids[0]}_${ids[2]}.ndjson`);
      expect(object!.contentType).toBe('application/x-ndjson');
      for (const report of reports) expect(report).toMatchObject({ outcome: { kind: 'delivered' }, statusCode: 200, response: object!.key });
      const byId = new Map(lines(object!.body).map((line) => [line['id'], line]));
      expect(lines(object!.body).map((line) => line['id'])).toEqual(ids);
      expect(byId.get(sent[0]!.eventId)).toEqual({ id: sent[0]!.eventId, flow: 'payments', receivedAt: '2026-03-01T23:59:59.500Z', contentType: 'application/json', body: { n: 1 } });
      expect(byId.get(sent[1]!.eventId)).toMatchObject({ contentType: 'text/plain', bodyBase64: Buffer.from('plain text').toString('base64') });
      expect(byId.get(sent[2]!.eventId)).toMatchObject({ body: { n: 3 } });
    });

    it('writes what it holds maxWait after the first event', async () => {
      const name = await bucket();
      const client = kind.client(batched(name, { maxWaitMs: 200 }));
      const reports = await Promise.all([client.deliver(attempt()), client.deliver(attempt())]);
      expect(reports.map(({ outcome }) => outcome.kind)).toEqual(['delivered', 'delivered']);
      expect(lines((await server.objects(name))[0]!.body)).toHaveLength(2);
    });

    it('keeps the lines of an object already under its name: a batch with the same first and last events never drops one', async () => {
      const name = await bucket();
      const [a, b, c] = [attempt(), attempt(), attempt()].sort((x, y) => (x.eventId < y.eventId ? -1 : 1));
      const first = kind.client(batched(name));
      await Promise.all([a!, b!, c!].map((one) => first.deliver(one)));
      // After a crash, a and c come back without b, whose delivery was recorded: their batch has b's object's name.
      const again = kind.client(batched(name, { maxEvents: 2 }));
      const reports = await Promise.all([again.deliver({ ...a!, attempt: 2 }), again.deliver({ ...c!, attempt: 2 })]);
      expect(reports.map(({ outcome }) => outcome.kind)).toEqual(['delivered', 'delivered']);
      const [object, ...more] = await server.objects(name);
      expect(more).toEqual([]);
      expect(lines(object!.body).map((line) => line['id'])).toEqual([a!.eventId, b!.eventId, c!.eventId]);
      expect(object!.metadata).toEqual({ 'fanout-events': '3' });
    });

    it('writes over a torn object under its name, keeping only its whole lines', async () => {
      const name = await bucket();
      const [a, b] = [attempt(), attempt()].sort((x, y) => (x.eventId < y.eventId ? -1 : 1));
      const key = `payments/2026/03/01/${a!.eventId}_${b!.eventId}.ndjson`;
      await server.client.send(new PutObjectCommand({ Bucket: name, Key: key, Body: '{"id":"torn-but-whole"}\n{"id":"cut off mid-li' }));
      const client = kind.client(batched(name, { maxEvents: 2 }));
      expect((await Promise.all([client.deliver(a!), client.deliver(b!)])).map(({ outcome }) => outcome.kind)).toEqual(['delivered', 'delivered']);
      const [object] = await server.objects(name);
      expect(lines(object!.body).map((line) => line['id'])).toEqual([a!.eventId, b!.eventId, 'torn-but-whole']);
    });

    it('gzips a batch into .ndjson.gz when asked', async () => {
      const name = await bucket();
      const client = kind.client(batched(name, { maxEvents: 2 }, { compression: 'gzip' }));
      const sent = [attempt(), attempt()];
      await Promise.all(sent.map((one) => client.deliver(one)));
      const [object] = await server.objects(name);
      expect(object!.key).toMatch(/\.ndjson\.gz$/);
      expect(object!.contentType).toBe('application/gzip');
      expect(lines(gunzipSync(object!.body)).map((line) => line['id'])).toEqual(sent.map(({ eventId }) => eventId).sort());
    });

    it('gives every event of a batch that cannot be written the write failure', async () => {
      const client = kind.client(batched(uniqueName('no-such-bucket'), { maxEvents: 2 }));
      const reports: AttemptReport[] = await Promise.all([client.deliver(attempt()), client.deliver(attempt())]);
      for (const report of reports) expect(report.outcome).toEqual({ kind: 'dead', reason: 'S3 NoSuchBucket (HTTP 404)' });
    });

    it('writes at once once the kind is drained', async () => {
      const name = await bucket();
      const own = createS3Kind();
      const pending = own.client(batched(name)).deliver(attempt());
      own.drain?.();
      expect((await pending).outcome).toEqual({ kind: 'delivered' });
      await own.close();
    });

    it('lets a stopping worker take back an attempt still waiting in its batch', async () => {
      const name = await bucket();
      const stop = new AbortController();
      const pending = kind.client(batched(name)).deliver(attempt({ signal: stop.signal }));
      stop.abort();
      expect(await pending).toMatchObject({ interrupted: true, outcome: { kind: 'retry' } });
      expect(await server.objects(name)).toEqual([]);
    });
  });

  it('writes again once a stopped store is back, on the same client', async () => {
    const name = await bucket();
    const client = kind.client(to(name));
    expect((await client.deliver(attempt())).outcome.kind).toBe('delivered');
    await server.stop();
    try {
      expect((await client.deliver(attempt())).outcome).toMatchObject({ kind: 'retry' });
    } finally {
      await server.start();
    }
    expect((await client.deliver(attempt())).outcome.kind).toBe('delivered');
    expect(await server.objects(name)).toHaveLength(2);
  }, 30_000);

  it('lists more than one page of objects (s3rver needs the legacy OpenSSL provider for that)', async () => {
    const name = await bucket();
    // A long timeout: the listing is what is tested, and a loaded machine makes s3rver slow to write.
    const client = kind.client(to(name, { timeoutMs: 60_000 }));
    for (let written = 0; written < 1_050; written += 25) {
      const reports = await Promise.all(Array.from({ length: 25 }, () => client.deliver(attempt({ body: Buffer.from('x') }))));
      expect(reports.filter(({ outcome }) => outcome.kind !== 'delivered')).toEqual([]);
    }
    expect(await server.keys(name)).toHaveLength(1_050);
  }, 120_000);
});
