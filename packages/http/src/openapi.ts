import { ERROR_CODES, type ErrorCode } from '@fanout/core';
import { z } from 'zod';
import type { RouteDoc } from './route-doc.js';

/** An OpenAPI 3.1 document, as JSON. */
export type OpenApiDocument = Record<string, unknown>;

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description: string;
}

type JsonSchema = Record<string, unknown>;

/** OpenAPI 3.1 takes JSON Schema 2020-12 as it is; only the `$schema` of each root is dropped. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

/** `/flows/:flow/destinations/:destination` → `/flows/{flow}/destinations/{destination}` */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

function parameters(route: RouteDoc): JsonSchema[] {
  const path = [...route.path.matchAll(/:(\w+)/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
    ...(route.params?.[name!] ? { description: route.params[name!] } : {}),
  }));
  if (!route.query) return path;
  const query = jsonSchema(route.query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  const inQuery = Object.entries(query.properties ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: query.required?.includes(name) ?? false,
    schema,
    ...(typeof schema['description'] === 'string' ? { description: schema['description'] } : {}),
  }));
  return [...path, ...inQuery];
}

function errorResponses(codes: readonly ErrorCode[]): Record<string, JsonSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_CODES[code].status, [...(byStatus.get(ERROR_CODES[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, sameStatus]) => {
      const body = z.object({ error: z.object({ code: z.enum(sameStatus), message: z.string() }) });
      return [
        String(status),
        {
          description: sameStatus.map((code) => `${code}: ${ERROR_CODES[code].summary}`).join(' '),
          content: { 'application/json': { schema: jsonSchema(body, 'output') } },
        },
      ];
    }),
  );
}

function operation(route: RouteDoc): JsonSchema {
  const errors = route.tag === 'admin' ? ['UNAUTHORIZED' as const, ...(route.errors ?? [])] : (route.errors ?? []);
  const success = Object.fromEntries(
    Object.entries(route.responses).map(([status, response]) => [
      status,
      {
        description: response.description,
        ...(response.json ? { content: { 'application/json': { schema: jsonSchema(response.json, 'output') } } } : response.contentType ? { content: { [response.contentType]: {} } } : {}),
      },
    ]),
  );
  const body = route.body;
  const params = parameters(route);
  return {
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(body
      ? {
          requestBody: {
            description: body.description,
            // A body schema that takes `undefined` makes the body optional (replay: no body means every dead letter).
            required: body.json ? !body.json.safeParse(undefined).success : false,
            content: body.json ? { 'application/json': { schema: jsonSchema(body.json, 'input') } } : { '*/*': { schema: {} } },
          },
        }
      : {}),
    responses: { ...success, ...errorResponses(errors) },
    ...(route.tag === 'admin' ? { security: [{ bearerToken: [] }, { basicPassword: [] }] } : {}),
  };
}

/** The OpenAPI 3.1 document of `routes`: paths, parameters, bodies and answers from their zod schemas, errors from the registry. */
export function openApiDocument(info: OpenApiInfo, routes: readonly RouteDoc[]): OpenApiDocument {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info,
    tags: [
      { name: 'ingress', description: 'Webhooks in: served by processes with the ingress role.' },
      { name: 'admin', description: 'The admin API: served by processes with the dashboard role, behind FANOUT_ADMIN_TOKEN.' },
      { name: 'process', description: 'Health and metrics: served by every process.' },
    ],
    paths,
    components: {
      securitySchemes: {
        bearerToken: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer $FANOUT_ADMIN_TOKEN' },
        basicPassword: { type: 'http', scheme: 'basic', description: 'Any user name, FANOUT_ADMIN_TOKEN as the password (what a browser sends)' },
      },
    },
  };
}
