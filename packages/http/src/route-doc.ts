import type { ErrorCode } from '@fanout/core';
import type { z } from 'zod';

/** One answer a route gives with a success status. */
export interface ResponseDoc {
  readonly description: string;
  /** The schema of its JSON body. */
  readonly json?: z.ZodType;
  /** Its content type when it is not JSON (`text/html`, `text/plain`); the body is then not described. */
  readonly contentType?: string;
}

/** What a request body is. */
export interface RequestBodyDoc {
  readonly description: string;
  /** The schema of a JSON body, the same one the route parses it with. Absent: any bytes of any content type. */
  readonly json?: z.ZodType;
}

/**
 * One HTTP route as the OpenAPI document describes it. Request parts are the zod schemas the
 * route validates with, so the description cannot drift from what is accepted.
 */
export interface RouteDoc {
  readonly method: 'get' | 'post';
  /** In Express syntax, exactly as mounted: `/events/:id`. */
  readonly path: string;
  /** `ingress`: the webhook API; `admin`: behind the admin token; `process`: health and metrics, served by every process. */
  readonly tag: 'ingress' | 'admin' | 'process';
  readonly summary: string;
  readonly description?: string;
  /** What each `:name` of the path holds. */
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: z.ZodObject;
  readonly body?: RequestBodyDoc;
  /** By success status. */
  readonly responses: Readonly<Record<number, ResponseDoc>>;
  /** The error codes it may answer with; their statuses come from the registry. Admin routes add UNAUTHORIZED themselves. */
  readonly errors?: readonly ErrorCode[];
}
