import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenIdentity } from './access-tokens.js';
import { apiError, type ApiResult } from './api-error.js';
import type { ApiFamily } from './call-log.js';
import { recordCall, type SimContext } from './sim-context.js';
import { missingPermission } from './sim-users.js';
import { quotaMessage } from './throttle.js';

const arrivals = new WeakMap<object, number>();
const replyLegs = new WeakMap<object, number>();
const requestLegs = new WeakMap<object, number>();

/** Stamps the arrival time of a request (an `onRequest` hook: before the body is read). */
export function stampArrival(ctx: SimContext, request: FastifyRequest): void {
  arrivals.set(request.raw, ctx.now());
}

/**
 * The `onRequest` hook: draws an API call's latency, spends its request leg (so the call
 * arrives, and is counted, later than it was sent, as over a real network), then stamps the
 * arrival. The reply leg is spent by `apiRoute` once the work is done.
 */
export async function arriveAfterRequestLeg(
  ctx: SimContext,
  request: FastifyRequest,
): Promise<void> {
  const [min, max] = ctx.opts.latencyMs;
  if (max > 0 && request.url.startsWith('/api/')) {
    const latency = ctx.random.latency.int(min, max);
    const requestLeg =
      ctx.opts.latencyLegs === 'both' ? Math.round(latency * ctx.random.latencySplit.next()) : 0;
    replyLegs.set(request.raw, latency - requestLeg);
    requestLegs.set(request.raw, requestLeg);
    if (requestLeg > 0) await sleep(requestLeg);
  }
  stampArrival(ctx, request);
}

export function arrivalOf(ctx: SimContext, request: FastifyRequest): number {
  return arrivals.get(request.raw) ?? ctx.now();
}

export type ApiHandler = (request: FastifyRequest, identity: TokenIdentity) => ApiResult;

/**
 * Wraps one API route in the order the real service is assumed to work: bearer token (401),
 * throttle counted on arrival (429, no side effect, not counted), 5xx faults before any work,
 * the work itself, and then, maybe, a lost reply (the work is done but the caller never hears).
 */
export function apiRoute(ctx: SimContext, family: ApiFamily, handler: ApiHandler) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const t = arrivalOf(ctx, request);
    const latency = replyLegs.get(request.raw) ?? 0;
    const auth = ctx.tokens.check(request.headers.authorization);
    let result: ApiResult;
    let appId: string | null = null;
    if (!auth.ok) {
      result = apiError(401, 'Unauthorized', `Authorization failed: token ${auth.reason}.`, {
        headers: { 'www-authenticate': 'Bearer' },
      });
    } else {
      appId = auth.identity.appId;
      const budget = ctx.opts.budgetScope === 'shared' ? 'all' : family;
      const key = `${auth.identity.appId}|${auth.identity.tenantId}|${budget}`;
      const decision = ctx.throttle.tryAcquire(key, t);
      if (!decision.allowed) {
        const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
        // The published 429 body: code "429" (not TooManyRequests), the tripped window named,
        // and a Retry-After until that window has room, which for the hour window can be long.
        result = apiError(429, '429', quotaMessage(decision.window, ctx.opts.timeScale), {
          headers: { 'retry-after': String(seconds) },
        });
      } else if (ctx.random.faults.chance(ctx.opts.faultRate)) {
        ctx.stats.faults++;
        result = ctx.random.faults.chance(0.5)
          ? apiError(500, 'InternalServerError', 'An unexpected error occurred.')
          : apiError(503, 'ServiceUnavailable', 'The service is temporarily unavailable.');
      } else {
        // Checked after the throttle, so a refused call still counts against the budget: the
        // stricter reading, as the API does not say.
        const missing = missingPermission(auth.identity, family);
        result = missing
          ? apiError(
              403,
              'Forbidden',
              `The ${auth.identity.user === undefined ? 'application' : 'user token'} lacks the ${missing} permission.`,
            )
          : handler(request, auth.identity);
      }
    }
    if (latency > 0) await sleep(latency);
    const handled = auth.ok && result.status !== 429 && !(result.status >= 500);
    const lost = handled && ctx.random.lost.chance(ctx.opts.lostRate);
    const realSocket = request.raw.socket instanceof Socket;
    const destroy =
      lost &&
      realSocket &&
      (ctx.opts.lostMode === 'destroy' ||
        (ctx.opts.lostMode === 'mixed' && ctx.random.lost.chance(0.5)));
    const sent = lost && !destroy ? apiError(502, 'BadGateway', 'Bad gateway.') : result;
    recordCall(ctx, {
      t,
      method: request.method,
      path: request.url,
      family,
      status: destroy ? 0 : sent.status,
      code: destroy ? null : (sent.code ?? null),
      machineId: result.machineId ?? null,
      actionId: result.createdActionId ?? null,
      existingActionId: result.existingActionId ?? null,
      lost,
      appId,
      durationMs: ctx.now() - t,
      requestLegMs: requestLegs.get(request.raw) ?? 0,
    });
    if (destroy) {
      reply.hijack();
      request.raw.socket.destroy();
      return;
    }
    await reply
      .code(sent.status)
      .headers(sent.headers ?? {})
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(sent.body));
  };
}
