import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { buildSimulator, type Simulator } from '../simulator/build-simulator.js';
import { DEFAULT_RATE_LIMITS } from '../simulator/options.js';
import { createSelfSignedCertificate } from '../simulator/tls.js';
import { DEMO_USERS, demoRedirectUri } from './demo-users.js';
import { packageRoot } from '../shared/package-root.js';
import { createRedis } from '../shared/redis.js';
import { scanKeys } from '../shared/scan-keys.js';
import { obtainRedis, type RedisHandle } from '../shared/redis-server.js';

export interface DemoSettings {
  devices: number;
  timeScale: number;
  /** Shares of calls answered 5xx, and of replies lost after the action was made. */
  faultRate: number;
  lostRate: number;
  seed: number;
  /**
   * With `fleetscan demo --dashboard`: the dashboard's port (127.0.0.1), so the simulator's app
   * registration lists its sign-in callback and signs in the demo's users. The demo then also
   * runs the dashboard, and keeps everything running after the summary until SIGINT/SIGTERM.
   */
  dashboardPort?: number | undefined;
}

/** Everything the demo runs against, and the environment its child CLIs get. */
export interface DemoEnvironment {
  dir: string;
  redis: RedisHandle;
  sim: Simulator;
  apiUrl: string;
  /** The simulator's self-signed certificate (PEM file), which the children trust. */
  caFile: string;
  prefix: string;
  /** The whole environment of every `fleetscan` child: nothing of the caller's leaks in. */
  env: NodeJS.ProcessEnv;
  /** The same settings, for this process. */
  config: Config;
  deviceFile: string;
  close(): Promise<void>;
}

/** Microsoft's windows (100/min, 1500/h) on the simulator's compressed clock, rounded up. */
export function scaledWindows(timeScale: number): string {
  return DEFAULT_RATE_LIMITS.map((w) => `${w.cap}/${Math.ceil(w.windowMs / timeScale)}ms`).join(
    ',',
  );
}

/**
 * Starts what the demo needs and nobody has to install: a Redis (`obtainRedis`), and the simulator
 * on a free port over TLS with a self-signed certificate, because MSAL talks only to https
 * authorities; the children trust it through NODE_EXTRA_CA_CERTS. The real token provider then
 * gets its tokens from the simulator's Entra endpoint with the simulator's secret.
 */
export async function startDemoEnvironment(settings: DemoSettings): Promise<DemoEnvironment> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetscan-demo-'));
  const cleanups: (() => Promise<void>)[] = [
    () => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  ];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const redis = await obtainRedis();
    cleanups.push(() => redis.stop());
    const prefix = `fleetscan-demo-${randomBytes(4).toString('hex')}`;
    cleanups.push(() => deletePrefix(redis.url, prefix));

    const tls = await createSelfSignedCertificate();
    const caFile = join(dir, 'simulator-ca.pem');
    writeFileSync(caFile, tls.cert);
    const sim = await buildSimulator({
      fleet: settings.devices,
      timeScale: settings.timeScale,
      faultRate: settings.faultRate,
      lostRate: settings.lostRate,
      existingActionRate: 0.5,
      latencyMs: [2, 25],
      // Devices busy with someone else's scan stay so for 15 s of the demo: they get deferred.
      lifecycle: { otherScanMs: 30 * 60_000 },
      seed: settings.seed,
      tls,
      ...(settings.dashboardPort === undefined
        ? {}
        : {
            users: DEMO_USERS,
            redirectUris: [demoRedirectUri(settings.dashboardPort)],
          }),
    });
    cleanups.push(() => sim.close());
    await sim.app.listen({ port: 0, host: '127.0.0.1' });
    const address = sim.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const apiUrl = `https://127.0.0.1:${port}`;

    const deviceFile = join(dir, 'devices.txt');
    writeFileSync(deviceFile, `${sim.machines.map((m) => m.id).join('\n')}\n`);
    const env: NodeJS.ProcessEnv = {
      ...pick(process.env, ['PATH', 'HOME', 'TMPDIR', 'TEMP', 'TMP', 'SYSTEMROOT', 'LANG']),
      FLEETSCAN_CONFIG: join(packageRoot(), 'config', 'demo.yaml'),
      REDIS_URL: redis.url,
      FLEETSCAN_PREFIX: prefix,
      FLEETSCAN_BUDGET_PREFIX: prefix,
      FLEETSCAN_RATE_LIMITS: scaledWindows(settings.timeScale),
      MDE_API_URL: apiUrl,
      MDE_AUTHORITY_HOST: apiUrl,
      MDE_TENANT_ID: sim.credentials.tenantId,
      MDE_CLIENT_ID: sim.credentials.clientId,
      MDE_CLIENT_SECRET: sim.credentials.clientSecret,
      NODE_EXTRA_CA_CERTS: caFile,
    };
    const config = loadConfig({ env });
    return { dir, redis, sim, apiUrl, caFile, prefix, env, config, deviceFile, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function pick(env: NodeJS.ProcessEnv, names: readonly string[]): NodeJS.ProcessEnv {
  return Object.fromEntries(
    names.filter((name) => env[name] !== undefined).map((name) => [name, env[name]]),
  );
}

/** Removes every key of the demo's prefix: a shared Redis is left as it was found. */
async function deletePrefix(url: string, prefix: string): Promise<void> {
  const redis = createRedis(url, { failFast: true, connectionName: 'fleetscan-demo-cleanup' });
  redis.on('error', () => undefined);
  try {
    // One UNLINK per key: a Redis Cluster refuses a multi-key UNLINK across slots.
    await scanKeys(redis, `${prefix}:*`, 1000, async (keys, node) => {
      await Promise.all(keys.map((key) => node.unlink(key)));
    });
  } finally {
    redis.disconnect();
  }
}
