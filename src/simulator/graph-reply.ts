import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenCheck, TokenIdentity } from './access-tokens.js';
import type { CallFamily } from './call-log.js';
import { recordCall, type SimContext } from './sim-context.js';

/** One Microsoft Graph answer before it is sent. */
export interface GraphReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  code: string | null;
}

/** Graph's error shape: `{"error":{"code","message","innerError":{"request-id","date"}}}`. */
export function graphError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): GraphReply {
  return {
    status,
    code,
    headers,
    body: {
      error: {
        code,
        message,
        innerError: { 'request-id': randomUUID(), date: new Date().toISOString() },
      },
    },
  };
}

/**
 * 403 when the token holds none of `needed` (any one suffices), worded as Graph words it for
 * an app: "Missing application roles. API required roles: A,B, application roles: C,D."
 * (wazuh/wazuh issue 31670, KelvinTegelaar/CIPP issue 1085). User tokens are judged by `scp`.
 */
export function graphForbidden(
  identity: TokenIdentity,
  needed: readonly string[],
): GraphReply | undefined {
  const app = identity.user === undefined;
  const granted = app ? identity.roles : identity.scopes;
  if (needed.some((p) => granted.includes(p))) return undefined;
  return graphError(
    403,
    'Forbidden',
    app
      ? `Missing application roles. API required roles: ${needed.join(',')}, application roles: ${granted.join(',')}.`
      : `Missing scope permissions on the request. API requires one of '${needed.join(', ')}'. Scopes on the request '${granted.join(', ')}'`,
  );
}

/** Records a Graph call in the call log and sends its answer. */
export async function sendGraphReply(
  ctx: SimContext,
  call: {
    request: FastifyRequest;
    reply: FastifyReply;
    /** Arrival time. */
    t: number;
    family: CallFamily;
    auth: TokenCheck;
  },
  result: GraphReply,
): Promise<void> {
  recordCall(ctx, {
    t: call.t,
    method: call.request.method,
    path: call.request.url,
    family: call.family,
    status: result.status,
    code: result.code,
    machineId: null,
    actionId: null,
    existingActionId: null,
    lost: false,
    appId: call.auth.ok ? call.auth.identity.appId : null,
    durationMs: ctx.now() - call.t,
  });
  await call.reply
    .code(result.status)
    .headers(result.headers ?? {})
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(result.body));
}
