import { describe, expect, it } from '@jest/globals';
import { DestinationDeniedError } from '../network-guard.js';
import { classifyS3Failure, s3Failure } from './classify-outcome.js';

const failure = (statusCode: number | undefined, code: string) => ({ ...(statusCode === undefined ? {} : { statusCode }), code, message: `${code} message`, timedOut: false });

describe('classifyS3Failure', () => {
  it('dead-letters a store address the network guard denies at once, naming it', () => {
    const denied = s3Failure(new DestinationDeniedError('169.254.169.254'), false);
    expect(classifyS3Failure(denied)).toEqual({ kind: 'dead', reason: 'destination address 169.254.169.254 is denied' });
  });

  it.each([
    [500, 'InternalError'],
    [503, 'SlowDown'],
    [503, 'ServiceUnavailable'],
    [400, 'RequestTimeout'],
    [403, 'RequestTimeTooSkewed'],
    [400, 'ExpiredToken'],
    [409, 'OperationAborted'],
    [429, 'TooManyRequests'],
    [408, 'RequestTimeout'],
  ])('retries HTTP %i %s', (status, code) => {
    expect(classifyS3Failure(failure(status, code))).toEqual({ kind: 'retry', reason: `S3 ${code} (HTTP ${status})` });
  });

  it.each([
    [404, 'NoSuchBucket'],
    [403, 'AccessDenied'],
    [403, 'InvalidAccessKeyId'],
    [403, 'SignatureDoesNotMatch'],
    [400, 'InvalidBucketName'],
    [400, 'EntityTooLarge'],
    [400, 'InvalidRequest'],
  ])('dead-letters HTTP %i %s at once', (status, code) => {
    expect(classifyS3Failure(failure(status, code))).toEqual({ kind: 'dead', reason: `S3 ${code} (HTTP ${status})` });
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'CredentialsProviderError'])('retries %s, where the store did not answer', (code) => {
    expect(classifyS3Failure(failure(undefined, code))).toEqual({ kind: 'retry', reason: code });
  });

  it('retries a timeout, naming it', () => {
    expect(classifyS3Failure({ code: 'AbortError', message: 'timeout after 5000 ms', timedOut: true })).toEqual({ kind: 'retry', reason: 'timeout after 5000 ms' });
  });
});

describe('s3Failure', () => {
  it('reads the store code and status of an SDK service error', () => {
    const error = Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket', Code: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } });
    expect(s3Failure(error, false)).toEqual({ statusCode: 404, code: 'NoSuchBucket', message: 'The specified bucket does not exist', timedOut: false });
  });

  it('names a network failure by its system code', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED', $metadata: {} });
    expect(s3Failure(error, false)).toEqual({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9', timedOut: false });
  });
});
