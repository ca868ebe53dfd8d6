import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Got } from 'got';
import { chromium, type Browser } from 'playwright-core';
import { pino } from 'pino';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { startDashboardServer } from '../../src/runtime/dashboard-server.js';
import type { Config } from '../../src/config/schema.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import type { DashboardDeps } from '../../src/dashboard/dashboard-deps.js';
import { budgetIdFor } from '../../src/limiter/scan-limiter.js';
import { buildRuntime, type Runtime } from '../../src/runtime/build-runtime.js';
import { signInFromConfig } from '../../src/runtime/signin-from-config.js';
import { startRuntimeWorker } from '../../src/runtime/start-workers.js';
import type { Simulator, SimulatorOptions } from '../../src/simulator/build-simulator.js';
import { scanTestConfig, startSimulator } from '../redis/scan-fixture.js';
import { startSignInSimulator, trustingNetwork } from './entra-signin.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from './redis.js';

export const CHROMIUM = '/usr/bin/chromium';
/**
 * Chromium's headless shell (Debian's chromium-headless-shell, installed by `npm test`'s
 * prerequisites): the same Blink, but an open page idles at no CPU and a live update costs about
 * a tenth of the desktop binary's, whose compositor kept fifty open pages at 2+ cores.
 */
export const HEADLESS_SHELL = '/usr/bin/chromium-headless-shell';
/** One Chromium, quiet: no GPU, no background traffic, no first-run pages. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface DashboardFixtureOptions {
  /** Names the key prefix (a unique one per run) and the test runtime's Redis connections. */
  name: string;
  /** The simulated Defender API the runtime (and its worker, when asked) scans against. */
  simulator: SimulatorOptions;
  /** Config by dotted path, over `scanTestConfig`'s. */
  config?: Record<string, unknown>;
  /**
   * How people get in: a shared token (`dashboard.token`), or `entra`, signing in against a
   * second simulator playing Entra ID over HTTPS with the test users of entra-signin.ts.
   */
  auth: { token: string } | 'entra';
  /** A scan worker on the runtime, so campaigns move. */
  worker?: { concurrency: number };
  /**
   * The dashboard as `fleetscan dashboard` starts it (its own runtime, Redis connections named
   * `fleetscan-<role>`), instead of `buildDashboard` on the test runtime with `deps`.
   */
  server?: { role: string };
  /** Dashboard deps beyond the common ones (store, budgets, credentials, sign-in, audit). */
  deps?: (started: { runtime: Runtime; config: Config; prefix: string }) => Partial<DashboardDeps>;
  /** Listen on loopback (default) or only answer `app.inject`. */
  listen?: boolean;
  /**
   * Launch Chromium (default), with these arguments added; `headlessShell` takes the headless
   * shell instead (for many pages at once).
   */
  chromium?: false | { args?: readonly string[]; headlessShell?: boolean };
}

/** The simulated Entra tenant of an `entra` fixture. */
export interface EntraSim {
  sim: Simulator;
  url: string;
  http: Got;
}

export interface DashboardFixture {
  prefix: string;
  sim: Simulator;
  simUrl: string;
  config: Config;
  runtime: Runtime;
  /** The app, unless the fixture runs the CLI's server. */
  app: FastifyInstance | undefined;
  /** `http://127.0.0.1:<port>`; empty when not listening. */
  url: string;
  entra: EntraSim | undefined;
  /** Throws when the fixture launched no Chromium. */
  browser: Browser;
  /** Runs `close` first when the fixture closes (last added, first run). */
  onClose(close: () => Promise<unknown>): void;
  /** Closes everything started, in reverse order, whatever failed before. */
  close(): Promise<void>;
}

/** A port nobody listens on now: the sign-in's redirect URI must name it before the dashboard listens. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) =>
    probe.close(() => {
      resolve();
    }),
  );
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * The dashboard tests' common set-up: a Redis prefix of their own, a simulator and a runtime on
 * it, the dashboard (with a token or Entra sign-in) and one Chromium. Whatever started is closed
 * by `close()` even when a later step failed.
 */
export async function startDashboardFixture(
  options: DashboardFixtureOptions,
): Promise<DashboardFixture> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const step of closers.splice(0).reverse()) await step();
  };
  try {
    return await start(options, closers, close);
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

async function start(
  options: DashboardFixtureOptions,
  closers: (() => Promise<unknown>)[],
  close: () => Promise<void>,
): Promise<DashboardFixture> {
  const executable = options.chromium && options.chromium.headlessShell ? HEADLESS_SHELL : CHROMIUM;
  if (options.chromium !== false && !existsSync(executable)) {
    throw new Error(
      `${executable} is missing: run npm test (it installs it) or apt-get install ${basename(executable)}`,
    );
  }
  const prefix = uniquePrefix(options.name);
  const started = await startSimulator(options.simulator);
  closers.push(
    () => started.sim.close(),
    () => started.sim.app.close(),
  );
  let entra: EntraSim | undefined;
  let auth: Record<string, unknown> = {};
  let env: Record<string, string> = {};
  let port = 0;
  if (options.auth === 'entra') {
    entra = await startSignInSimulator();
    const entraSim = entra.sim;
    closers.push(() => entraSim.close());
    port = await freePort();
    env = { DASHBOARD_SECRET: entraSim.credentials.clientSecret };
    auth = {
      'dashboard.auth': 'entra',
      'dashboard.entra.tenantId': entraSim.credentials.tenantId,
      'dashboard.entra.clientId': entraSim.credentials.clientId,
      'dashboard.entra.clientSecretEnv': 'DASHBOARD_SECRET',
      'dashboard.entra.authorityHost': entra.url,
      'dashboard.entra.redirectUri': `http://127.0.0.1:${String(port)}/signin/callback`,
    };
  } else if (options.server) {
    // The CLI reads its token from the config, which asks for 32 characters at least.
    auth = { 'dashboard.token': options.auth.token };
  }
  const config = scanTestConfig(
    testRedisUrl(),
    prefix,
    started,
    {
      'dashboard.host': '127.0.0.1',
      'dashboard.port': port,
      'dashboard.allowActions': true,
      ...auth,
      ...options.config,
    },
    env,
  );
  const runtime = await buildRuntime(config, { role: `${options.name}-test` });
  closers.push(
    () => cleanupPrefix(testRedisUrl(), prefix),
    () => runtime.close(),
  );
  if (options.worker) {
    const worker = startRuntimeWorker(runtime, {
      concurrency: options.worker.concurrency,
      pollActionStatuses: false,
    });
    closers.push(() => worker.close());
  }
  const network = entra ? trustingNetwork(entra.http) : undefined;
  let app: FastifyInstance | undefined;
  let url = '';
  if (options.server) {
    const server = await startDashboardServer(config, {
      role: options.server.role,
      ...(network ? { signInNetwork: network } : {}),
    });
    closers.push(() => server.close());
    url = server.address.replace('localhost', '127.0.0.1');
  } else {
    const built = await buildDashboard({
      store: runtime.store,
      redis: runtime.redis,
      stats: runtime.callStats,
      budgets: [{ id: budgetIdFor(config), usage: () => runtime.limiter.usage() }],
      credentials: options.auth === 'entra' ? config.dashboard : { token: options.auth.token },
      signIn: signInFromConfig(config, {
        redis: runtime.redis,
        clock: runtime.clock,
        log: pino({ level: 'silent' }),
        ...(network ? { network } : {}),
      }),
      allowActions: config.dashboard.allowActions,
      requireNoEviction: true,
      audit: createAuditLog(runtime.redis, prefix),
      ...options.deps?.({ runtime, config, prefix }),
    });
    app = built;
    closers.push(() => built.close());
    if (options.listen !== false) url = await built.listen({ port, host: '127.0.0.1' });
  }
  let browser: Browser | undefined;
  if (options.chromium !== false) {
    const launched = await chromium.launch({
      executablePath: executable,
      args: [...CHROMIUM_ARGS, ...(options.chromium?.args ?? [])],
    });
    browser = launched;
    closers.push(() => launched.close());
  }
  return {
    prefix,
    sim: started.sim,
    simUrl: started.url,
    config,
    runtime,
    app,
    url,
    entra,
    get browser(): Browser {
      if (!browser) throw new Error('this dashboard fixture launched no Chromium');
      return browser;
    },
    onClose(step) {
      closers.push(step);
    },
    close,
  };
}
