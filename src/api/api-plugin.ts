import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiDeps } from './api-deps.js';
import { registerApiHooks } from './api-hooks.js';
import { parseNdjsonDevices } from './ndjson-devices.js';
import { BODY_LIMITS, createPause, decodeBody, parseJsonBounded } from './bounded-json.js';
import { meterBody } from './request-body.js';
import { ApiProblem, kindForStatus, PROBLEM_CONTENT_TYPE } from './problem.js';
import { registerAuditRoutes } from './routes/audit-routes.js';
import { registerCampaignRoutes } from './routes/campaign-routes.js';
import { registerControlRoutes } from './routes/control-routes.js';
import { registerDeviceRoutes } from './routes/device-routes.js';
import { registerWebhookRoutes } from './routes/webhook-routes.js';

export const API_PREFIX = '/api/v1';

function sendProblem(reply: FastifyReply, request: FastifyRequest, problem: ApiProblem) {
  request.denialReason = problem.message;
  return reply
    .code(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(problem.toProblem(request.url.split('?')[0]));
}

/** Any error thrown below a route as an ApiProblem (fastify's own errors keep their status). */
function asProblem(error: unknown): ApiProblem {
  if (error instanceof ApiProblem) return error;
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiProblem(kindForStatus(status), (error as Error).message);
  }
  return new ApiProblem('internal', 'The request failed on the server; see its log.');
}

/**
 * The automation API as a fastify plugin under `/api/v1` (docs/automation.md): bearer API tokens
 * with scopes, per-token rate limits, Idempotency-Key on every POST, an audit record for every
 * write, RFC 9457 problems for every error, and the OpenAPI 3.1 document built from the same
 * route schemas that validate requests and answers.
 */
export async function registerApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(
    async (api) => {
      await api.register(swagger, {
        openapi: {
          openapi: '3.1.0',
          info: {
            title: 'fleetscan automation API',
            version: '1.0.0',
            description:
              'Start, follow and stop Defender antivirus scan campaigns from playbooks. ' +
              'Every POST takes an Idempotency-Key; errors are RFC 9457 problem details.',
          },
          components: {
            securitySchemes: {
              bearerToken: {
                type: 'http',
                scheme: 'bearer',
                description: 'An API token from `fleetscan token create`',
              },
            },
          },
        },
      });
      await api.register(rateLimit, {
        global: true,
        max: deps.settings.rateLimitMax,
        timeWindow: deps.settings.rateLimitWindowMs,
        // A route-level hook: after authentication (the instance's onRequest), before the scope
        // check (preParsing) and before a large body is read.
        hook: 'onRequest',
        redis: deps.redis,
        nameSpace: `${deps.prefix}:api:rate:`,
        keyGenerator: (request) => request.apiToken?.id ?? `ip:${request.ip}`,
        errorResponseBuilder: (_request, context) =>
          new ApiProblem(
            'rate-limited',
            `At most ${String(context.max)} requests per ${context.after} for one token; ` +
              `retry in ${String(Math.ceil(context.ttl / 1000))} s.`,
          ),
      });

      api.removeAllContentTypeParsers();
      const bodyLimit = deps.settings.bodyLimit;
      // Both parsers read the body as it arrives and work in slices that yield to the event
      // loop (src/api/bounded-json.ts, request-body.ts): a 16 MiB body, or one nested millions
      // deep, must not stall /healthz or other requests.
      api.addContentTypeParser(
        'application/json',
        async (request: FastifyRequest, payload: AsyncIterable<Buffer | string>) => {
          const body = meterBody(payload, bodyLimit, request.headers['content-length']);
          const pause = createPause();
          const text = await decodeBody(body.chunks, pause);
          request.rawBody = body.digest();
          if (text.trim() === '') return undefined;
          return parseJsonBounded(text, BODY_LIMITS, pause);
        },
      );
      api.addContentTypeParser(
        'application/x-ndjson',
        async (request: FastifyRequest, payload: AsyncIterable<Buffer | string>) => {
          const body = meterBody(payload, bodyLimit, request.headers['content-length']);
          const parsed = await parseNdjsonDevices(body.chunks, request.query, BODY_LIMITS);
          request.rawBody = body.digest();
          return parsed;
        },
      );

      api.setErrorHandler((error, request, reply) => {
        const problem = asProblem(error);
        if (problem.status >= 500) request.log.error({ err: error }, 'API request failed');
        return sendProblem(reply, request, problem);
      });
      api.setNotFoundHandler((request, reply) =>
        sendProblem(
          reply,
          request,
          new ApiProblem(
            'not-found',
            `No route ${request.method} ${request.url.split('?')[0] ?? ''}`,
          ),
        ),
      );

      registerApiHooks(api, deps);

      api.get('/openapi.json', { schema: { hide: true }, config: { scope: 'public' } }, () =>
        api.swagger(),
      );
      registerCampaignRoutes(api, deps);
      registerDeviceRoutes(api, deps);
      registerControlRoutes(api, deps);
      registerWebhookRoutes(api, deps);
      registerAuditRoutes(api, deps);
    },
    { prefix: API_PREFIX },
  );
}
