import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { CancelActions } from '../../src/api/api-deps.js';
import { startApiServices, type ApiServices } from '../../src/runtime/api-services.js';
import { buildApiApp } from '../../src/runtime/serve-api.js';
import type { TokenScope } from '../../src/api/tokens/token-store.js';
import type { Resolve } from '../../src/webhooks/webhook-destination.js';
import { buildRuntime, type Runtime } from '../../src/runtime/build-runtime.js';
import { startRuntimeWorker } from '../../src/runtime/start-workers.js';
import type { ScanWorker } from '../../src/scan/start-scan-worker.js';
import type { Simulator, SimulatorOptions } from '../../src/simulator/build-simulator.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { scanTestConfig, startSimulator } from './scan-fixture.js';

export interface ApiCall {
  status: number;
  headers: Headers;
  text: string;
  // Parsed JSON bodies are checked by the tests against the route's schemas.
  json: unknown;
}

export interface ApiFixture {
  base: string;
  sim: Simulator;
  runtime: Runtime;
  services: ApiServices;
  app: FastifyInstance;
  /** Every `METHOD path` called, for the "every route is exercised" check. */
  called: string[];
  /** Starts (another) scan worker; one runs from the start unless `worker: false`. */
  startWorker(): void;
  token(scopes: TokenScope[], tenants?: string[] | null): Promise<string>;
  call(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; ndjson?: string; headers?: Record<string, string> },
  ): Promise<ApiCall>;
  close(): Promise<void>;
}

/** The default resolver of the fixture: names other than IP literals fail, as if unknown. */
const refuseToResolve: Resolve = (hostname) =>
  Promise.reject(Object.assign(new Error(`no DNS in tests: ${hostname}`), { code: 'ENOTFOUND' }));

/**
 * The whole stack on real sockets: the simulator, Redis (own prefix), a scan worker, and the API
 * listening on 127.0.0.1 with its webhook watcher and delivery worker. Calls go through fetch.
 */
export async function startApiFixture(
  options: {
    sim?: SimulatorOptions;
    overrides?: Record<string, unknown>;
    /** More overrides that need the simulator (its URL, its tokens). */
    overridesFor?: (sim: { sim: Simulator; url: string }) => Record<string, unknown>;
    cancelActions?: CancelActions;
    worker?: boolean;
    /** Name resolution for the webhook guard; no test asks a real DNS server. */
    resolve?: Resolve;
    /** Point Graph (hunting, incidents, alerts) at the simulator with a ready Graph token. */
    graph?: boolean;
  } = {},
): Promise<ApiFixture> {
  const prefix = uniquePrefix('api');
  const sim = await startSimulator({ timeScale: 100, latencyMs: [1, 5], ...options.sim });
  const config = scanTestConfig(testRedisUrl(), prefix, sim, {
    'webhooks.backoff': '40ms',
    'webhooks.backoffCap': '150ms',
    'webhooks.watchInterval': '50ms',
    'webhooks.timeout': '1s',
    'api.rateLimitMax': 10_000,
    // The test receivers listen on plain http on loopback, refused unless named here.
    'webhooks.allowHttp': true,
    'webhooks.allowNetworks': ['127.0.0.1/32'],
    ...(options.graph === true
      ? {
          'hunting.graphUrl': sim.url,
          'hunting.accessToken': sim.sim.issueToken({ resource: 'https://graph.microsoft.com' }),
        }
      : {}),
    ...options.overrides,
    ...options.overridesFor?.(sim),
  });
  const runtime = await buildRuntime(config, { role: 'test' });
  const services = startApiServices(runtime, {
    ...(options.cancelActions ? { cancelActions: options.cancelActions } : {}),
    resolve: options.resolve ?? refuseToResolve,
  });
  const app = await buildApiApp(services.deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${String((app.server.address() as AddressInfo).port)}`;
  const workers: ScanWorker[] = [];
  const startWorker = () => {
    workers.push(
      startRuntimeWorker(runtime, {
        concurrency: 8,
      }),
    );
  };
  if (options.worker !== false) startWorker();
  const called: string[] = [];
  let n = 0;
  return {
    base,
    sim: sim.sim,
    runtime,
    services,
    app,
    called,
    startWorker,
    async token(scopes, tenants = null) {
      n += 1;
      const created = await services.deps.tokens.create({
        name: `test-${String(n)}`,
        scopes,
        tenants,
        createdBy: 'test',
        now: Date.now(),
      });
      return created.secret;
    },
    async call(method, path, opts = {}) {
      called.push(`${method} ${path.split('?')[0] ?? ''}`);
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
      let body: string | undefined;
      if (opts.ndjson !== undefined) {
        headers['content-type'] = 'application/x-ndjson';
        body = opts.ndjson;
      } else if (opts.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(opts.body);
      }
      const response = await fetch(`${base}/api/v1${path}`, { method, headers, body });
      const text = await response.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
      return { status: response.status, headers: response.headers, text, json };
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await app.close();
      await services.close();
      await runtime.close();
      await sim.sim.app.close();
      await sim.sim.close();
      await cleanupPrefix(testRedisUrl(), prefix);
    },
  };
}

/** Polls `check` every 50 ms until it returns a value; fails with `describe()` after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  describe: () => string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
