import { isStandardWebhooksSecret } from '@fanout/core';
import { z } from 'zod';
import { brokerUrl, duration, expecting, httpUrl, natsSubject, nonEmptyString, percentage, positiveDuration, positiveSize, resourceName, simpleJsonPath, wholeNumber } from './fields.js';

// Headers fanout sets itself on every delivery; letting a flow override them would break
// receivers' dedupe (webhook-id), signatures, or the byte-for-byte body.
const RESERVED_HEADERS = new Set(['webhook-id', 'webhook-timestamp', 'webhook-signature', 'content-type', 'content-length', 'host']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[^\r\n\0]*$/;

const headerName = z.string({ error: 'expected an HTTP header name' }).regex(HEADER_NAME, { error: 'expected an HTTP header name' });

const headers = z
  .record(
    headerName,
    z.string({ error: 'expected a header value (a string)' }).regex(HEADER_VALUE, { error: 'expected a header value without line breaks' }),
    { error: 'expected a mapping of header names to values' },
  )
  .superRefine((value, ctx) => {
    const seen = new Set<string>();
    for (const name of Object.keys(value)) {
      const lower = name.toLowerCase();
      if (RESERVED_HEADERS.has(lower)) ctx.addIssue({ code: 'custom', path: [name], message: `${name} is set by fanout on every delivery and cannot be configured` });
      else if (seen.has(lower)) ctx.addIssue({ code: 'custom', path: [name], message: `header ${name} is given twice (header names ignore case)` });
      seen.add(lower);
    }
  })
  .meta({ description: 'Extra headers sent with every attempt.' });

const backoffType = z.enum(['fixed', 'exponential']);
const jitter = z.enum(['full', 'none']);

const retryDefaults = z.strictObject({
  attempts: wholeNumber(1).default(8).meta({ description: 'Total attempts, the first included.' }),
  backoff: z
    .strictObject({
      type: backoffType.default('exponential').meta({ description: '`exponential` doubles the delay after every attempt.' }),
      delay: duration.prefault('1s').meta({ description: 'The delay before the first retry.' }),
      maxDelay: duration.prefault('1h').meta({ description: 'The cap on any one delay, Retry-After included.' }),
      jitter: jitter.default('full').meta({ description: '`full`: a uniformly random delay between 0 and the computed one.' }),
    })
    .prefault({}),
});

// A destination's retry merges field by field over spec.defaults.retry, so nothing here has a default.
const retryOverride = z.strictObject({
  attempts: wholeNumber(1).optional(),
  backoff: z.strictObject({ type: backoffType.optional(), delay: duration.optional(), maxDelay: duration.optional(), jitter: jitter.optional() }).optional(),
});

const rateLimit = z
  .strictObject({ max: wholeNumber(1), per: positiveDuration })
  .meta({ description: 'At most `max` attempts start per `per` window. Absent: no limit.' });

const filter = z
  .strictObject({
    eventTypes: z.array(nonEmptyString, { error: 'expected a list of event types' }).min(1, { error: 'expected at least one event type' }),
    jsonPath: simpleJsonPath.default('$.type').meta({ description: 'Where the event type is read from a JSON body.' }),
  })
  .meta({ description: 'Only events of these types are delivered; the others are recorded as filtered. Absent: every event.' });

const ordering = z
  .union([z.enum(['none', 'fifo']), z.strictObject({ key: simpleJsonPath.meta({ description: 'Where the ordering key is read from a JSON body: a string or a whole number.' }) })], {
    error: 'expected none, fifo or { key: $.path }',
  })
  .meta({
    description:
      '`none` (the default): up to `concurrency` deliveries in flight, no order. `fifo`: one delivery in flight across every worker process, in ingest order; a retrying one holds back the later ones. `{ key: $.path }`: the same per key (events without it share the key ""), up to `concurrency` keys at once across every worker process.',
  });

const circuitBreaker = z
  .strictObject({
    consecutiveFailures: wholeNumber(1).optional().meta({ description: 'Open after this many failed attempts in a row. Give this or `failureRate`.' }),
    failureRate: z
      .strictObject({
        threshold: percentage.meta({ description: 'Open when at least this share of the attempts in `window` failed.' }),
        minAttempts: wholeNumber(1).default(20).meta({ description: 'Fewer attempts than this in `window` never open it.' }),
        window: positiveDuration.prefault('1m').meta({ description: 'The attempts counted: those that ended in the last `window`.' }),
      })
      .optional()
      .meta({ description: 'Open on the share of failed attempts. Give this or `consecutiveFailures`.' }),
    cooldown: positiveDuration.prefault('30s').meta({ description: 'How long it stays open before one probe attempt (half-open).' }),
    redrive: z.boolean(expecting('true or false')).default(false).meta({ description: 'On closing, replay the dead letters that died while it was open, at the rateLimit (or 10/s).' }),
  })
  .refine((breaker) => (breaker.consecutiveFailures === undefined) !== (breaker.failureRate === undefined), { error: 'give exactly one of consecutiveFailures or failureRate' })
  .meta({
    description:
      'Stops attempts to a failing destination: open, no attempt starts and deliveries wait (spending no attempts); after `cooldown` one probe attempt; its success closes it, its failure opens it again. A failed attempt is one the destination did not answer or answered with a retryable status (5xx, 408, 429…).',
  });

const onGone = z
  .enum(['dead-letter', 'pause'], expecting('dead-letter or pause'))
  .meta({ description: 'What an HTTP 410 Gone does: `dead-letter` (the default) that delivery, or `pause` the destination (the delivery waits until it is resumed).' });

/**
 * `secret`, or `secrets` while rotating (newest first): exactly one of the two. Messages
 * about secrets never start with "expected", so the loader never appends the value it got.
 */
function secretFields<S extends z.ZodType<string>>(secret: S) {
  return {
    secret: secret.optional().meta({ description: 'The shared secret. Give this or `secrets`.' }),
    secrets: z
      .array(secret, { error: 'a list of secrets is needed here' })
      .min(1, { error: 'at least one secret is needed' })
      .optional()
      .meta({ description: 'While rotating: every secret in use, newest first. Give this or `secret`.' }),
  };
}

const ONE_SECRET = { error: 'give exactly one of secret or secrets' };
const hasOneSecret = (value: { secret?: string | undefined; secrets?: readonly string[] | undefined }): boolean => (value.secret === undefined) !== (value.secrets === undefined);

const secretString = z.string({ error: 'a secret must be a string' }).min(1, { error: 'a secret must not be empty' });
const standardWebhooksSecret = secretString.refine(isStandardWebhooksSecret, { error: 'a whsec_ secret must be base64 after its prefix' });

const tolerance = positiveDuration.prefault('5m').meta({ description: 'How far the signed timestamp may be from now, either way.' });

const signing = z
  .strictObject({
    type: z.literal('standard-webhooks'),
    ...secretFields(standardWebhooksSecret),
  })
  .refine(hasOneSecret, ONE_SECRET)
  .meta({
    description:
      'Signs every attempt per Standard Webhooks: `webhook-signature: v1,<base64>` for each secret, newest first. A secret is `whsec_<base64 key>`, or any other string used as its UTF-8 bytes.',
  });

/** The per-destination policy fields; each overrides the same field of `spec.defaults`. */
const policyShape = {
  filter: filter.optional(),
  timeout: positiveDuration.optional().meta({ description: 'Per attempt. Default: spec.defaults.timeout.' }),
  retry: retryOverride.optional().meta({ description: 'Merged field by field over spec.defaults.retry.' }),
  concurrency: wholeNumber(1).optional().meta({ description: 'Attempts in flight at once, per worker process. Default: spec.defaults.concurrency.' }),
  rateLimit: rateLimit.optional(),
  ordering: ordering.optional(),
  deadLetter: z.strictObject({ retention: positiveDuration.optional() }).optional(),
  circuitBreaker: z
    .union([circuitBreaker, z.literal(false)], expecting('a circuitBreaker mapping, or false'))
    .optional()
    .meta({ description: 'Replaces spec.defaults.circuitBreaker whole; `false`: none for this destination.' }),
  onGone: onGone.optional(),
};

const httpDestination = z
  .strictObject({
    name: resourceName,
    type: z.literal('http'),
    url: httpUrl.meta({ description: 'Where attempts are POSTed. A `user:password@` in it is sent as `Authorization: Basic`.' }),
    headers: headers.optional(),
    signing: signing.optional(),
    ...policyShape,
  })
  .superRefine(({ url, headers }, ctx) => {
    // zod runs this even when url failed its own check.
    if (!URL.canParse(url)) return;
    const { username, password } = new URL(url);
    if ((username || password) && Object.keys(headers ?? {}).some((name) => name.toLowerCase() === 'authorization')) {
      ctx.addIssue({ code: 'custom', path: ['headers'], message: 'the url\'s user:password@ is sent as Authorization: Basic, and headers sets Authorization too: give one of them' });
    }
  });

const s3Batch = z
  .strictObject({
    maxEvents: wholeNumber(1).default(500).meta({ description: 'An object is written once it holds this many events.' }),
    maxBytes: positiveSize.prefault('5mb').meta({ description: 'An object is written once its NDJSON lines (before compression) reach this size.' }),
    maxWait: positiveDuration.prefault('10s').meta({ description: 'An object is written at the latest this long after its first event joined.' }),
  })
  .meta({ description: 'Events are written together as NDJSON objects. Absent: one object per event.' });

const s3Destination = z
  .strictObject({
    name: resourceName,
    type: z.literal('s3'),
    bucket: nonEmptyString,
    prefix: z.string(expecting('a key prefix (a string)')).default('').meta({ description: 'Put before every object key, as written (end it with `/` for a folder).' }),
    region: nonEmptyString.default('us-east-1'),
    endpoint: httpUrl.optional().meta({ description: 'For S3-compatible stores (MinIO…); path-style addressing is used then. Absent: AWS S3.' }),
    credentials: z
      .strictObject({ accessKeyId: nonEmptyString, secretAccessKey: nonEmptyString, sessionToken: nonEmptyString.optional() })
      .optional()
      .meta({ description: 'Absent: the AWS default credential chain (environment, shared files, instance role).' }),
    batch: s3Batch.optional(),
    compression: z.enum(['none', 'gzip']).default('none').meta({ description: '`gzip` compresses batch objects (`.ndjson.gz`); per-event objects are stored as received.' }),
    ...policyShape,
  })
  .superRefine((destination, ctx) => {
    if (destination.compression !== 'none' && !destination.batch) ctx.addIssue({ code: 'custom', path: ['compression'], message: 'compression applies to batches only: set batch, or leave compression out' });
    const { batch, concurrency } = destination;
    if (batch && concurrency !== undefined && concurrency < batch.maxEvents) {
      ctx.addIssue({ code: 'custom', path: ['concurrency'], message: `a batch waits with its deliveries in flight, so concurrency must be at least batch.maxEvents (${batch.maxEvents})` });
    }
  })
  .meta({ description: 'Writes each event, or batches of events as NDJSON, to an S3 bucket.' });

const amqpDestination = z
  .strictObject({
    name: resourceName,
    type: z.literal('amqp'),
    url: brokerUrl(['amqp', 'amqps'], 'an amqp:// or amqps:// URL').meta({ description: 'The broker, credentials in the userinfo (`amqp://user:password@host:5672/vhost`).' }),
    exchange: z.string(expecting('an exchange name (a string)')).default('').meta({ description: 'Published to this exchange; `""` is the default exchange, where the routing key names the queue.' }),
    routingKey: z.string(expecting('a routing key (a string)')),
    persistent: z.boolean(expecting('true or false')).default(true).meta({ description: 'Messages are written to disk by durable queues (delivery mode 2).' }),
    ...policyShape,
  })
  .refine((destination) => destination.exchange !== '' || destination.routingKey !== '', { path: ['routingKey'], error: 'the default exchange routes by queue name: give the queue as routingKey' })
  .meta({ description: 'Publishes each event to a RabbitMQ (AMQP 0-9-1) exchange with publisher confirms.' });

const natsDestination = z
  .strictObject({
    name: resourceName,
    type: z.literal('nats'),
    url: brokerUrl(['nats', 'tls'], 'a nats:// or tls:// URL').meta({ description: 'The server, credentials in the userinfo (`nats://user:password@host:4222`, or `nats://token@host:4222`).' }),
    subject: natsSubject,
    ...policyShape,
  })
  .meta({ description: 'Publishes each event to a NATS JetStream stream, deduplicated by event id.' });

const destinations = z
  .array(z.discriminatedUnion('type', [httpDestination, s3Destination, amqpDestination, natsDestination]), { error: 'expected a list of destinations' })
  .min(1, { error: 'expected at least one destination' })
  .superRefine((list, ctx) => {
    const firstIndex = new Map<string, number>();
    list.forEach((destination, index) => {
      const first = firstIndex.get(destination.name);
      if (first === undefined) firstIndex.set(destination.name, index);
      else ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `destination name "${destination.name}" is already used by spec.destinations[${first}]` });
      const { ordering = 'none', concurrency } = destination;
      if (ordering === 'fifo' && concurrency !== undefined && concurrency > 1) {
        ctx.addIssue({ code: 'custom', path: [index, 'concurrency'], message: `concurrency ${concurrency} with ordering fifo: fifo delivers one event at a time; remove concurrency (or set it to 1), or order by a key` });
      }
      if (ordering !== 'none' && destination.type === 's3' && destination.batch) {
        ctx.addIssue({ code: 'custom', path: [index, 'ordering'], message: 'an s3 batch writes its events together, which no ordering allows: remove batch or ordering' });
      }
    });
  });

const idempotencyKeyPolicy = z
  .strictObject({
    header: headerName.optional().meta({ description: 'The request header holding the key (any case).' }),
    jsonPath: simpleJsonPath.optional().meta({ description: 'Where the key is read from a JSON body: a string or a whole number.' }),
    ttl: positiveDuration.prefault('24h').meta({ description: 'How long a key is remembered.' }),
  })
  .refine((key) => (key.header === undefined) !== (key.jsonPath === undefined), { error: 'give exactly one of header or jsonPath' })
  .meta({
    description:
      'A repeated key inside ttl is accepted once: the repeat gets 200 with the first event\'s id and Idempotent-Replayed: true. A request without the key is accepted as usual.',
  });

const idempotencyKey = z.union([idempotencyKeyPolicy, z.literal(false)], { error: 'expected { header | jsonPath, ttl } or false' }).meta({
  description:
    "Where a request's idempotency key is read. Absent: the sender's own id, the webhook-id header (Standard Webhooks senders) or X-GitHub-Delivery, for 24h. false: none, every request is a new event.",
});

const verify = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('standard-webhooks'), ...secretFields(standardWebhooksSecret), tolerance }).refine(hasOneSecret, ONE_SECRET),
    z.strictObject({ type: z.literal('github'), ...secretFields(secretString) }).refine(hasOneSecret, ONE_SECRET),
    z.strictObject({ type: z.literal('stripe'), ...secretFields(secretString), tolerance }).refine(hasOneSecret, ONE_SECRET),
    z
      .strictObject({
        type: z.literal('hmac-sha256'),
        ...secretFields(secretString),
        header: headerName.meta({ description: 'The request header holding the signature (any case).' }),
        encoding: z.enum(['hex', 'base64']).default('hex').meta({ description: 'How the HMAC-SHA256 of the body is written in the header.' }),
        prefix: z.string().default('').meta({ description: 'What comes before the signature in the header, e.g. `sha256=`.' }),
      })
      .refine(hasOneSecret, ONE_SECRET),
  ])
  .meta({
    description:
      'Checks the signature of every request over its body as received, before anything is stored; a request that does not verify gets 401 SIGNATURE_INVALID. With standard-webhooks, a webhook-id seen again within twice the tolerance is answered as an idempotent repeat.',
  });

const source = z.strictObject({
  maxBodyBytes: positiveSize.prefault('1mb').meta({ description: 'Larger bodies are refused with 413.' }),
  idempotencyKey: idempotencyKey.optional(),
  verify: verify.optional(),
});

const defaults = z
  .strictObject({
    timeout: positiveDuration.prefault('10s').meta({ description: 'Per attempt.' }),
    retry: retryDefaults.prefault({}),
    concurrency: wholeNumber(1).default(10).meta({ description: 'Attempts in flight at once, per destination and worker process.' }),
    rateLimit: rateLimit.optional(),
    deadLetter: z.strictObject({ retention: positiveDuration.prefault('7d').meta({ description: 'How long dead letters are kept.' }) }).prefault({}),
    circuitBreaker: circuitBreaker.optional(),
    onGone: onGone.default('dead-letter'),
  })
  .meta({ description: 'Inherited by every destination; each may override any field.' });

/**
 * The DeliveryFlow document as written in YAML. Parsing it checks every field, turns
 * durations into milliseconds and sizes into bytes, fills `spec.defaults`, and refuses the
 * fields whose behaviour is not built yet. The JSON Schema is generated from it.
 */
export const deliveryFlowSchema = z
  .strictObject({
    apiVersion: z.literal('fanout.dev/v1'),
    kind: z.literal('DeliveryFlow'),
    metadata: z.strictObject({
      name: resourceName.meta({ description: 'Unique across flows; the webhook URL is /webhooks/<name>.' }),
      // What a resource applied with kubectl carries besides its name; fanout reads none of them.
      namespace: resourceName.optional().meta({ description: 'The Kubernetes namespace of the resource. Not read by fanout: flow names are unique across namespaces.' }),
      labels: z.record(z.string(), z.string({ error: 'expected a label value (a string)' })).optional().meta({ description: 'Kubernetes labels. Not read by fanout.' }),
      annotations: z.record(z.string(), z.string({ error: 'expected an annotation value (a string)' })).optional().meta({ description: 'Kubernetes annotations. Not read by fanout.' }),
    }),
    spec: z.strictObject({
      source: source.prefault({}),
      defaults: defaults.prefault({}),
      destinations,
    }),
  })
  .meta({ title: 'DeliveryFlow', description: 'One source of webhooks and the destinations each event is delivered to.' });

/** A DeliveryFlow document as written, before defaults and units are applied. */
export type DeliveryFlowInput = z.input<typeof deliveryFlowSchema>;
/** A validated DeliveryFlow document: units in ms and bytes, `spec.defaults` filled in. */
export type DeliveryFlowDocument = z.output<typeof deliveryFlowSchema>;
