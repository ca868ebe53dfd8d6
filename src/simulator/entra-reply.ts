import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { arrivalOf } from './api-call.js';
import { recordCall, type SimContext } from './sim-context.js';

/** An OAuth error as Entra answers it: HTTP status, `error`, and the AADSTS description. */
export interface OAuthError {
  status: number;
  error: string;
  aadsts: string;
}

export function baseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

export async function sendJson(
  ctx: SimContext,
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  body: unknown,
  code: string | null,
): Promise<void> {
  const t = arrivalOf(ctx, request);
  recordCall(ctx, {
    t,
    method: request.method,
    path: request.url.split('?')[0] ?? '',
    family: 'entra',
    status,
    code,
    machineId: null,
    actionId: null,
    existingActionId: null,
    lost: false,
    appId: null,
    durationMs: ctx.now() - t,
  });
  await reply
    .code(status)
    .type('application/json; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(JSON.stringify(body));
}

export async function sendOAuthError(
  ctx: SimContext,
  request: FastifyRequest,
  reply: FastifyReply,
  e: OAuthError,
): Promise<void> {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date(ctx.now())
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  const errorCode = Number(/^AADSTS(\d+)/.exec(e.aadsts)?.[1] ?? 0);
  await sendJson(
    ctx,
    request,
    reply,
    e.status,
    {
      error: e.error,
      error_description: `${e.aadsts} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [errorCode],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${baseUrl(request)}/error?code=${String(errorCode)}`,
    },
    e.error,
  );
}
