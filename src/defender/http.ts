import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import got from 'got';
import type { EndpointFamily } from './machine-action.js';

export interface Attempt {
  family: EndpointFamily;
  method: 'GET' | 'POST';
  url: URL;
  body?: Record<string, unknown>;
}

export interface Reply {
  status: number;
  body: string;
  retryAfter: string | undefined;
  /**
   * `performance.now()` when the reply's headers arrived (the earliest moment the server had
   * certainly counted the call); absent: when `send` resolved.
   */
  receivedAt?: number;
}

export interface HttpSettings {
  timeoutMs: number;
  /** Sockets kept per host; more than the worker concurrency buys nothing. */
  maxSockets?: number;
  /** Extra CA certificates (PEM) to trust, for a simulator or a TLS-inspecting proxy. */
  ca?: string | Buffer;
}

/**
 * The one got instance of a client: no retries (the pipeline owns them), no redirects (a bearer
 * token follows nobody), no HTTP-error throwing (every reply is mapped by us), keep-alive.
 */
export function createHttp(settings: HttpSettings) {
  const agentOptions = { keepAlive: true, maxSockets: settings.maxSockets ?? 64 };
  const agents = {
    http: new HttpAgent(agentOptions),
    https: new HttpsAgent({ ...agentOptions, ...(settings.ca ? { ca: settings.ca } : {}) }),
  };
  const instance = got.extend({
    retry: { limit: 0 },
    timeout: { connect: Math.min(settings.timeoutMs, 10_000), request: settings.timeoutMs },
    agent: agents,
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'text',
    headers: { accept: 'application/json', 'user-agent': 'fleetscan' },
  });

  return {
    /** One request; resolves with any reply, rejects only when no reply came. */
    async send(attempt: Attempt, token: string, signal?: AbortSignal): Promise<Reply> {
      const request = instance(attempt.url, {
        method: attempt.method,
        headers: { authorization: `Bearer ${token}` },
        ...(attempt.body ? { json: attempt.body } : {}),
        ...(signal ? { signal } : {}),
      });
      // The headers' arrival, on the monotonic clock (got's own timings are whole wall-clock ms).
      // In promise mode got emits 'response' only after the body; its first download progress
      // (0 bytes) comes with the headers.
      let receivedAt: number | undefined;
      // (`on` hands back the same promise, awaited below.)
      void request.on('downloadProgress', () => {
        receivedAt ??= performance.now();
      });
      const response = await request;
      const retryAfter = response.headers['retry-after'];
      return {
        status: response.statusCode,
        body: response.body,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
        receivedAt: receivedAt ?? performance.now(),
      };
    },
    /**
     * Opens up to `sockets` keep-alive connections to `origin` before the first burst, so its
     * calls do not wait for TCP/TLS set-up one after another. Each is an unauthenticated HEAD of
     * the root: no token, so no app or tenant it could be counted against. Never rejects.
     */
    async warm(origin: string, sockets: number): Promise<number> {
      const n = Math.max(0, Math.min(Math.floor(sockets), agentOptions.maxSockets));
      const replies = await Promise.allSettled(
        Array.from({ length: n }, () => instance(`${origin}/`, { method: 'HEAD' })),
      );
      return replies.filter((r) => r.status === 'fulfilled').length;
    },
    close(): void {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

export type Http = ReturnType<typeof createHttp>;
