import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiDeps } from './api-deps.js';
import { apiAuditInput, problemDetail, tokenActor } from './api-audit.js';
import { requestFingerprint } from './idempotency-store.js';
import { ApiProblem, PROBLEM_CONTENT_TYPE } from './problem.js';
import { hasScope } from './tokens/token-store.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function problem(reply: FastifyReply, request: FastifyRequest, error: ApiProblem) {
  request.denialReason = error.message;
  return reply
    .code(error.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(error.toProblem(request.url.split('?')[0]));
}

/**
 * The request pipeline of every API route:
 * - onRequest: failed-guess throttle per address (429), the bearer API token (401), then the
 *   per-token rate limit (429, route level); preParsing: the scope (403);
 * - preHandler (POST with Idempotency-Key): claim the key, or replay the first answer, or 409;
 * - onSend: keep the answer under the claimed key (not a 5xx: a retry may then run again);
 * - onResponse: one audit record per write (who, when, what, from where, how it ended), and
 *   every refusal collapsed into counted entries (audit-denials.ts).
 */
export function registerApiHooks(api: FastifyInstance, deps: ApiDeps): void {
  api.decorateRequest('apiToken', null);
  api.decorateRequest('rawBody', '');
  api.decorateRequest('idempotencyClaim', null);
  api.decorateRequest('auditTarget', '');
  api.decorateRequest('auditDetail', '');
  api.decorateRequest('denialReason', '');

  api.addHook('onRequest', async (request, reply) => {
    const scope = request.routeOptions.config.scope;
    if (scope === undefined || scope === 'public') return undefined;
    // Before any credential is checked: a client whose recent guesses all failed waits, so
    // forged tokens cannot be tried faster than the throttle allows (token-guesses per second).
    const address = [`address:${request.ip}`];
    const wait = deps.guesses.waitMs(address);
    if (wait > 0) {
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      return problem(
        reply,
        request,
        new ApiProblem('rate-limited', 'Too many failed authentications from this address.'),
      );
    }
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const verdict = match ? await deps.tokens.verify(match[1] ?? '', deps.clock.now()) : null;
    if (!verdict?.ok) {
      if (verdict !== null) deps.guesses.fail(address);
      const why =
        verdict === null
          ? 'Send "Authorization: Bearer <token>" with a token from `fleetscan token create`.'
          : verdict.reason === 'revoked'
            ? 'This token was revoked.'
            : verdict.reason === 'expired'
              ? 'This token has expired; ask an administrator for a new one.'
              : 'This token is not valid.';
      reply.header('www-authenticate', 'Bearer realm="fleetscan-api"');
      return problem(reply, request, new ApiProblem('unauthorized', why));
    }
    request.apiToken = verdict.token;
    // The per-token rate limit (@fastify/rate-limit, a route-level onRequest hook) runs next,
    // and the scope check after it (preParsing), so a token with the wrong scope is throttled
    // like any other and cannot be used to flood the audit log.
    return undefined;
  });

  api.addHook('preParsing', async (request, reply) => {
    const scope = request.routeOptions.config.scope;
    const token = request.apiToken;
    if (scope === undefined || scope === 'public' || !token) return undefined;
    if (!hasScope(token.scopes, scope)) {
      return problem(
        reply,
        request,
        new ApiProblem(
          'forbidden',
          `This route needs the "${scope}" scope; the token has ${token.scopes.join(', ')}.`,
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
    if (reply.statusCode >= 400 && !request.auditDetail)
      request.auditDetail = problemDetail(payload);
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

  api.addHook('onSend', async (_request, reply, payload) => {
    // Answers carry tokens' data: never sniffed as another type, never kept by a cache.
    reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  api.addHook('onResponse', async (request, reply) => {
    const params = request.params as { id?: unknown } | undefined;
    const target = request.auditTarget || (typeof params?.id === 'string' ? params.id : '');
    const status = reply.statusCode;
    const token = request.apiToken;
    const configured = request.routeOptions.config.audit;
    const action = configured ?? `${request.method} ${request.routeOptions.url ?? ''}`;
    const write = async () => {
      // Every refusal, on any route, before or after authentication, counted per group.
      if (
        status === 401 ||
        status === 403 ||
        status === 429 ||
        (configured && status < 500 && status >= 400)
      ) {
        await deps.denials.record({
          at: deps.clock.now(),
          who: token ? tokenActor(token) : `address:${request.ip}`,
          action,
          target,
          from: request.ip,
          status,
          reason: request.denialReason || request.auditDetail,
        });
        return;
      }
      if (!configured || !token) return;
      await deps.audit.record(apiAuditInput(request, token, configured, status, deps.clock.now()));
    };
    await write().catch((error: unknown) => {
      request.log.error({ err: error, action, target }, 'audit record not written');
    });
  });
}
