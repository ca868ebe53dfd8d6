import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApiProblem, PROBLEM_CONTENT_TYPE, ProblemSchema } from './problem.js';

/** Who may call a route: any valid token with this scope, or anyone (the OpenAPI document). */
export type RouteScope = 'read' | 'write' | 'public';

type Responses = Record<number, z.ZodType>;

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** A JSON answer checked against the route's own response schema, or a reply already sent (streams). */
export type RouteAnswer<R extends Responses> =
  | {
      [K in keyof R & number]: { status: K; body: z.input<R[K]>; headers?: Record<string, string> };
    }[keyof R & number]
  | { sent: FastifyReply };

export interface RouteSpec<
  P extends z.ZodType,
  Q extends z.ZodType,
  B extends z.ZodType,
  R extends Responses,
> {
  method: 'GET' | 'POST' | 'DELETE';
  /** Relative to the API prefix, fastify syntax (`/campaigns/:id`). */
  url: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  scope: RouteScope;
  /** The audit log's action name for writes (`campaign.create`). */
  audit?: string;
  params?: P;
  query?: Q;
  body?: B;
  /** Request content types besides JSON, parsed into the same body shape (NDJSON device lists). */
  extraBodyTypes?: Record<string, string>;
  responses: R;
  /** Non-JSON answers (exports): status → content types, documented as strings. */
  rawResponses?: Record<number, { description: string; contentTypes: readonly string[] }>;
  handler(input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>): Promise<RouteAnswer<R>>;
}

/** JSON Schema (2020-12, the dialect of OpenAPI 3.1) of a zod schema, inline, without `$schema`. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output' = 'input'): object {
  const json: Record<string, unknown> = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  delete json['$schema'];
  return json;
}

/** Where a zod issue sits, for the problem's `errors`: `body.devices[3]`, `query.limit`. */
function issuesOf(part: string, error: z.ZodError) {
  return error.issues.slice(0, 50).map((issue) => ({
    where: [part, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

const PART_NAMES: Record<string, string> = { querystring: 'query', body: 'body', params: 'path' };

/**
 * Registers one route from its zod schemas. The same schemas give the OpenAPI document (as JSON
 * Schema, read by @fastify/swagger), validate the request (zod, with its typed output handed to
 * the handler) and validate every JSON answer before it is sent: an answer that breaks its own
 * schema becomes a 500 instead of a surprise for the client.
 */
export function defineRoute<
  P extends z.ZodType = z.ZodUnknown,
  Q extends z.ZodType = z.ZodUnknown,
  B extends z.ZodType = z.ZodUnknown,
  R extends Responses = Responses,
>(app: FastifyInstance, spec: RouteSpec<P, Q, B, R>): void {
  const zodFor: Record<string, z.ZodType | undefined> = {
    params: spec.params,
    querystring: spec.query,
    body: spec.body,
  };
  const response: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(spec.responses)) {
    response[status] = {
      description: schema.description ?? 'Success',
      content: { 'application/json': { schema: jsonSchemaOf(schema, 'output') } },
    };
  }
  for (const [status, raw] of Object.entries(spec.rawResponses ?? {})) {
    response[status] = {
      description: raw.description,
      content: Object.fromEntries(raw.contentTypes.map((t) => [t, { schema: { type: 'string' } }])),
    };
  }
  const problem = {
    description: 'Problem details (RFC 9457)',
    content: { [PROBLEM_CONTENT_TYPE]: { schema: jsonSchemaOf(ProblemSchema, 'output') } },
  };
  response['4XX'] = problem;
  response['5XX'] = problem;

  const body = spec.body
    ? {
        content: {
          'application/json': { schema: jsonSchemaOf(spec.body) },
          ...Object.fromEntries(
            Object.entries(spec.extraBodyTypes ?? {}).map(([type, description]) => [
              type,
              { schema: { type: 'string', description } },
            ]),
          ),
        },
      }
    : undefined;

  app.route({
    method: spec.method,
    url: spec.url,
    config: { scope: spec.scope, audit: spec.audit ?? null },
    schema: {
      operationId: spec.operationId,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: spec.tags,
      ...(spec.scope === 'public' ? {} : { security: [{ bearerToken: [] }] }),
      ...(spec.params ? { params: jsonSchemaOf(spec.params) } : {}),
      ...(spec.query ? { querystring: jsonSchemaOf(spec.query) } : {}),
      ...(body ? { body } : {}),
      response,
    },
    validatorCompiler: ({ httpPart }) => {
      const schema = httpPart ? zodFor[httpPart] : undefined;
      return (data: unknown) => {
        if (!schema) return { value: data };
        const parsed = schema.safeParse(data ?? (httpPart === 'body' ? undefined : {}));
        if (parsed.success) return { value: parsed.data };
        const part = PART_NAMES[httpPart ?? ''] ?? String(httpPart);
        const errors = issuesOf(part, parsed.error);
        const first = errors[0];
        return {
          error: new ApiProblem(
            'invalid-request',
            first ? `${first.where}: ${first.message}` : `invalid ${part}`,
            { errors },
          ),
        };
      };
    },
    serializerCompiler: ({ httpStatus }) => {
      const status = Number(httpStatus);
      const schema: z.ZodType =
        (Number.isInteger(status) ? spec.responses[status] : undefined) ?? ProblemSchema;
      return (data: unknown) => JSON.stringify(schema.parse(data));
    },
    handler: async (request, reply) => {
      const answer = await spec.handler({
        params: request.params as z.output<P>,
        query: request.query as z.output<Q>,
        body: request.body as z.output<B>,
        request,
        reply,
      });
      if ('sent' in answer) return answer.sent;
      for (const [name, value] of Object.entries(answer.headers ?? {})) reply.header(name, value);
      return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
    },
  });
}
