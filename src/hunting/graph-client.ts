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
  const url = new URL(`${options.graphUrl.replace(/\/+$/, '')}/v1.0/security/runHuntingQuery`);
  const now = options.now ?? Date.now;
  const http = got.extend({
    retry: { limit: 0 },
    timeout: { request: options.timeoutMs },
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'text',
    headers: { accept: 'application/json', 'user-agent': 'fleetscan' },
  });

  const once = async (body: Record<string, string>, token: string, signal?: AbortSignal) => {
    const permit = await options.gate.acquire('hunting', signal);
    try {
      const response = await http.post(url, {
        headers: { authorization: `Bearer ${token}` },
        json: body,
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

  return {
    async runHuntingQuery(query, callOptions = {}) {
      const body = {
        Query: query,
        ...(callOptions.timespan ? { Timespan: callOptions.timespan } : {}),
      };
      let reply = await once(body, await options.tokens.getToken(), callOptions.signal);
      if (reply.status === 401) {
        const token = await options.tokens.getToken({ forceRefresh: true });
        reply = await once(body, token, callOptions.signal);
      }
      if (reply.status >= 200 && reply.status < 300) {
        const parsed = JSON.parse(reply.body) as Partial<HuntingResult>;
        if (!Array.isArray(parsed.results) || !Array.isArray(parsed.schema)) {
          throw new HuntingError({
            status: reply.status,
            code: 'InvalidResponse',
            retry: 'backoff',
          });
        }
        return { schema: parsed.schema, results: parsed.results };
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
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    },
    close() {
      // got keeps no sockets of its own beyond the global agent.
    },
  };
}
