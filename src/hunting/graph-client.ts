import got from 'got';
import type { TokenProvider } from '../auth/token-provider.js';
import type { CallPermit } from '../defender/call-gate.js';
import type { Logger } from '../shared/logger.js';
import { classifyHunting, HuntingError, huntingPauseMs } from './hunting-error.js';

/** The hunting budget: the same shape as the Defender client's `CallGate`, one family. */
export interface HuntingGate {
  acquire(family: 'hunting', signal?: AbortSignal): Promise<CallPermit>;
  throttle(family: 'hunting', ms: number): Promise<void>;
}

export interface HuntingResult {
  schema: { name: string; type?: string }[];
  results: Record<string, unknown>[];
}

export interface GraphClientOptions {
  /** Graph base, e.g. `https://graph.microsoft.com` (`resolveGraph`). */
  graphUrl: string;
  /** Tokens for the Graph scope, not the Defender one. */
  tokens: TokenProvider;
  gate: HuntingGate;
  timeoutMs: number;
  throttleDefaultMs: number;
  log: Logger;
  now?: () => number;
  /**
   * Added to a failure to reach Graph at all (DNS, refused, reset, timeout): where the URL came
   * from and how to change it, since the host alone does not say.
   */
  unreachableHint?: string | undefined;
}

// The name does not resolve: no retry will change that, only the configuration.
const UNRESOLVED = new Set(['ENOTFOUND']);

export interface GraphClient {
  /** `POST /v1.0/security/runHuntingQuery` (permission ThreatHunting.Read.All). */
  runHuntingQuery(
    query: string,
    options?: { timespan?: string; signal?: AbortSignal },
  ): Promise<HuntingResult>;
  /**
   * `GET /v1.0/security/incidents/{id}?$expand=alerts` (SecurityIncident.Read.All): the
   * incident with its alerts and their evidence, as Graph answers it.
   */
  getIncident(id: string, options?: { signal?: AbortSignal }): Promise<Record<string, unknown>>;
  /** `GET /v1.0/security/alerts_v2/{id}` (SecurityAlert.Read.All): one alert with its evidence. */
  getAlert(id: string, options?: { signal?: AbortSignal }): Promise<Record<string, unknown>>;
  close(): void;
}

function errorOf(body: string): { code: string; message: string } {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    return {
      code: typeof parsed.error?.code === 'string' ? parsed.error.code : 'UnknownError',
      message: typeof parsed.error?.message === 'string' ? parsed.error.message : '',
    };
  } catch {
    return { code: 'UnknownError', message: body.slice(0, 200) };
  }
}

/**
 * The Microsoft Graph advanced-hunting client: every call takes a slot of the hunting budget
 * first (settled when a reply came, released when the request never left), a 429 pauses the
 * whole budget, a 401 gets one token refresh. No retries of its own: the caller decides.
 */
export function createGraphClient(options: GraphClientOptions): GraphClient {
  const base = `${options.graphUrl.replace(/\/+$/, '')}/v1.0/security`;
  const url = new URL(`${base}/runHuntingQuery`);
  const now = options.now ?? Date.now;
  const http = got.extend({
    retry: { limit: 0 },
    timeout: { request: options.timeoutMs },
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'text',
    headers: { accept: 'application/json', 'user-agent': 'fleetscan' },
  });

  /** One request: a POST with `body`, else a GET. */
  const once = async (
    target: URL,
    body: Record<string, string> | undefined,
    token: string,
    signal?: AbortSignal,
  ) => {
    const permit = await options.gate.acquire('hunting', signal);
    try {
      const response = await http(target, {
        method: body ? 'POST' : 'GET',
        headers: { authorization: `Bearer ${token}` },
        ...(body ? { json: body } : {}),
        ...(signal ? { signal } : {}),
      });
      await permit.settle();
      const retryAfter = response.headers['retry-after'];
      return {
        status: response.statusCode,
        body: response.body,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
      };
    } catch (error) {
      await permit.settle();
      const code = (error as { code?: unknown }).code;
      const hint = options.unreachableHint ? ` (${options.unreachableHint})` : '';
      throw new HuntingError(
        {
          status: 0,
          code: 'NetworkError',
          retry: typeof code === 'string' && UNRESOLVED.has(code) ? 'never' : 'backoff',
          message: `${(error as Error).message}${hint}`,
        },
        { cause: error },
      );
    }
  };

  /** One call with one token refresh after a 401; the parsed body of a 2xx, else a HuntingError. */
  const call = async (
    operation: string,
    target: URL,
    body: Record<string, string> | undefined,
    signal: AbortSignal | undefined,
  ): Promise<unknown> => {
    let reply = await once(target, body, await options.tokens.getToken(), signal);
    if (reply.status === 401) {
      const token = await options.tokens.getToken({ forceRefresh: true });
      reply = await once(target, body, token, signal);
    }
    if (reply.status >= 200 && reply.status < 300) {
      try {
        return JSON.parse(reply.body) as unknown;
      } catch {
        throw new HuntingError({
          status: reply.status,
          code: 'InvalidResponse',
          retry: 'backoff',
          operation,
        });
      }
    }
    const { code, message } = errorOf(reply.body);
    const retry = classifyHunting(reply.status);
    let retryAfterMs: number | undefined;
    if (retry === 'throttled') {
      retryAfterMs = huntingPauseMs(reply.retryAfter, message, now(), options.throttleDefaultMs);
      options.log.warn({ retryAfterMs, code }, 'hunting throttled (429)');
      await options.gate.throttle('hunting', retryAfterMs);
    }
    throw new HuntingError({
      status: reply.status,
      code,
      retry,
      message,
      operation,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  };

  const record = (operation: string, value: unknown): Record<string, unknown> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new HuntingError({ status: 200, code: 'InvalidResponse', retry: 'backoff', operation });
    return value as Record<string, unknown>;
  };

  return {
    async runHuntingQuery(query, callOptions = {}) {
      const body = {
        Query: query,
        ...(callOptions.timespan ? { Timespan: callOptions.timespan } : {}),
      };
      const parsed = record(
        'runHuntingQuery',
        await call('runHuntingQuery', url, body, callOptions.signal),
      ) as Partial<HuntingResult>;
      if (!Array.isArray(parsed.results) || !Array.isArray(parsed.schema)) {
        throw new HuntingError({ status: 200, code: 'InvalidResponse', retry: 'backoff' });
      }
      return { schema: parsed.schema, results: parsed.results };
    },
    async getIncident(id, callOptions = {}) {
      const target = new URL(`${base}/incidents/${encodeURIComponent(id)}`);
      target.searchParams.set('$expand', 'alerts');
      const operation = `GET /security/incidents/${id}`;
      return record(operation, await call(operation, target, undefined, callOptions.signal));
    },
    async getAlert(id, callOptions = {}) {
      const target = new URL(`${base}/alerts_v2/${encodeURIComponent(id)}`);
      const operation = `GET /security/alerts_v2/${id}`;
      return record(operation, await call(operation, target, undefined, callOptions.signal));
    },
    close() {
      // got keeps no sockets of its own beyond the global agent.
    },
  };
}
