import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiDeps } from './api-deps.js';
import { requestFingerprint } from './idempotency-store.js';
import { ApiProblem, PROBLEM_CONTENT_TYPE } from './problem.js';
import { hasScope } from './tokens/token-store.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function problem(reply: FastifyReply, request: FastifyRequest, error: ApiProblem) {
  return reply
    .code(error.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(error.toProblem(request.url.split('?')[0]));
}

/**
 * The request pipeline of every API route:
 * - onRequest: the bearer API token (401 unknown/revoked, 403 wrong scope);
 * - preHandler (POST with Idempotency-Key): claim the key, or replay the first answer, or 409;
 * - onSend: keep the answer under the claimed key (not a 5xx: a retry may then run again);
 * - onResponse: one audit record per write (who, when, what, from where, how it ended).
 */
export function registerApiHooks(api: FastifyInstance, deps: ApiDeps): void {
  api.decorateRequest('apiToken', null);
  api.decorateRequest('rawBody', '');
  api.decorateRequest('idempotencyClaim', null);
  api.decorateRequest('auditTarget', '');
  api.decorateRequest('auditDetail', '');

  api.addHook('onRequest', async (request, reply) => {
    const scope = request.routeOptions.config.scope;
    if (scope === undefined || scope === 'public') return undefined;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const verdict = match ? await deps.tokens.verify(match[1] ?? '') : null;
    if (!verdict?.ok) {
      const why =
        verdict === null
          ? 'Send "Authorization: Bearer <token>" with a token from `fleetscan token create`.'
          : verdict.reason === 'revoked'
            ? 'This token was revoked.'
            : 'This token is not valid.';
      reply.header('www-authenticate', 'Bearer realm="fleetscan-api"');
      return problem(reply, request, new ApiProblem('unauthorized', why));
    }
    request.apiToken = verdict.token;
    if (!hasScope(verdict.token.scopes, scope)) {
      return problem(
        reply,
        request,
        new ApiProblem(
          'forbidden',
          `This route needs the "${scope}" scope; the token has ${verdict.token.scopes.join(', ')}.`,
        ),
      );
    }
    return undefined;
  });

  api.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST' || !request.apiToken) return undefined;
    const key = request.headers['idempotency-key'];
    if (key === undefined) return undefined;
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
      return problem(
        reply,
        request,
        new ApiProblem(
          'invalid-request',
          'Idempotency-Key: expected 1-255 visible ASCII characters',
        ),
      );
    }
    const fingerprint = requestFingerprint(request.method, request.url, request.rawBody);
    const verdict = await deps.idempotency.begin(request.apiToken.id, key, fingerprint);
    if (verdict.kind === 'new') {
      request.idempotencyClaim = { key, fingerprint };
      return undefined;
    }
    if (verdict.kind === 'conflict') {
      return problem(
        reply,
        request,
        verdict.reason === 'in-progress'
          ? new ApiProblem(
              'idempotency-in-progress',
              'The first request with this key has not answered yet; retry shortly.',
            )
          : new ApiProblem(
              'idempotency-conflict',
              'This Idempotency-Key was used within 24 h with a different request; use a new key.',
            ),
      );
    }
    request.auditDetail = 'replayed';
    return reply
      .code(verdict.answer.status)
      .type(verdict.answer.contentType)
      .header('idempotent-replayed', 'true')
      .send(verdict.answer.body);
  });

  api.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotencyClaim;
    if (!claim || !request.apiToken) return payload;
    request.idempotencyClaim = null;
    const status = reply.statusCode;
    if (status >= 500 || typeof payload !== 'string') {
      await deps.idempotency.abandon(request.apiToken.id, claim.key);
    } else {
      await deps.idempotency.complete(request.apiToken.id, claim.key, claim.fingerprint, {
        status,
        contentType: String(reply.getHeader('content-type') ?? 'application/json'),
        body: payload,
      });
    }
    return payload;
  });

  api.addHook('onResponse', async (request, reply) => {
    const action = request.routeOptions.config.audit;
    if (!action || !request.apiToken) return;
    const params = request.params as { id?: unknown } | undefined;
    const target = request.auditTarget || (typeof params?.id === 'string' ? params.id : '');
    await deps.audit
      .record({
        at: deps.clock.now(),
        who: `token:${request.apiToken.name}`,
        action,
        target,
        from: request.ip,
        status: reply.statusCode,
        detail: request.auditDetail,
      })
      .catch((error: unknown) => {
        request.log.error({ err: error, action, target }, 'audit record not written');
      });
  });
}
