import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import type { Campaign } from '../../src/campaigns/campaign.js';
import { startRedisServer, type OwnRedis } from '../../src/shared/redis-server.js';
import type { Simulator, SimulatorOptions } from '../../src/simulator/build-simulator.js';
import { createSelfSignedCertificate } from '../../src/simulator/tls.js';
import { paths } from '../lib/context.js';
import { fleetscanEnv } from '../lib/fleetscan-runner.js';
import { runChild, startChild, type Child } from '../lib/processes.js';
import {
  compressed,
  latencyFor,
  machineIds,
  MDE_WINDOWS,
  startSimulator,
} from '../lib/sim-harness.js';

/** What one chaos scenario did to the campaign, from the simulator's ground truth. */
export interface ChaosOutcome {
  scenario: string;
  devices: number;
  /** Devices with no action of this campaign at the API. */
  lost: number;
  /** Devices with two or more actions of this campaign at the API. */
  scannedTwice: number;
  /** Devices the campaign records as failed. */
  failed: number;
  throttled: number;
  /** Whether the campaign finished (every device requested, failed or cancelled) in time. */
  finished: boolean;
  elapsedMs: number;
  note: string;
  /** What else the scenario saw go wrong (a command that gave up, say); empty when nothing. */
  problem: string;
}

export interface ChaosSettings {
  devices: number;
  /** API time runs this many times faster. */
  factor: number;
  workers: number;
  /** Give up on a campaign after this long (real ms). */
  timeoutMs: number;
}

/** Everything a scenario works with: its own Redis, simulator, fleetscan children. */
export interface ChaosRun {
  settings: ChaosSettings;
  redis: OwnRedis;
  admin: Redis;
  sim: Simulator;
  env: NodeJS.ProcessEnv;
  dir: string;
  devicesFile: string;
  prefix: string;
  workers: Child[];
  startWorkers(count: number, env?: NodeJS.ProcessEnv): void;
  /** `fleetscan scan` of the device file; returns the campaign id. */
  scan(extra?: readonly string[]): Promise<string>;
  campaign(id: string): Promise<Campaign | null>;
  /** Resolves once `share` of the devices are settled (requested or failed). */
  progress(id: string, share: number): Promise<void>;
  /** Kills Redis (SIGKILL) and starts it again on the same port; `empty` starts without data. */
  restartRedis(options: { downMs: number; empty?: boolean; restoreDir?: string }): Promise<void>;
  /** A copy of Redis's AOF folder as it is now (for a rollback). */
  snapshotRedis(): string;
  waitFinished(id: string): Promise<boolean>;
  apiMs(ms: number): number;
}

export interface ChaosRunOptions {
  sim?: Partial<SimulatorOptions>;
  /** Credentials: a long-lived static token (default), or client secret over TLS (MSAL). */
  auth?: 'token' | 'secret';
  tokenLifetimeSec?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sets up one scenario's world, runs `body`, measures from the simulator, tears it all down. */
export async function withChaosRun(
  name: string,
  settings: ChaosSettings,
  options: ChaosRunOptions,
  body: (run: ChaosRun) => Promise<{ campaignId: string; note?: string; problem?: string }>,
): Promise<ChaosOutcome> {
  const dir = mkdtempSync(join(tmpdir(), `fleetscan-chaos-${name}-`));
  const redisDir = join(dir, 'redis');
  mkdirSync(redisDir);
  const redis = await startRedisServer({ aof: true, dir: redisDir });
  const admin = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 200 });
  admin.on('error', () => undefined);
  const ids = machineIds(settings.devices);
  const tls = options.auth === 'secret' ? await createSelfSignedCertificate() : undefined;
  const simulator = await startSimulator({
    machines: ids.map((id) => ({ id })),
    timeScale: settings.factor,
    rateLimits: compressed(MDE_WINDOWS, settings.factor),
    latencyMs: latencyFor(settings.factor),
    ...(tls ? { tls } : {}),
    ...(options.tokenLifetimeSec ? { tokenLifetimeSec: options.tokenLifetimeSec } : {}),
    ...options.sim,
  });
  const devicesFile = join(dir, 'devices.txt');
  writeFileSync(devicesFile, `${ids.join('\n')}\n`);
  const prefix = `chaos-${name}`;
  let env = fleetscanEnv({
    redisUrl: redis.url,
    prefix,
    apiUrl: simulator.url,
    token: simulator.token,
    factor: settings.factor,
    windows: compressed(MDE_WINDOWS, settings.factor),
    guardMs: 5,
    workDir: dir,
  });
  if (tls) {
    writeFileSync(join(dir, 'api-ca.pem'), tls.cert);
    const rest = { ...env };
    delete rest['MDE_ACCESS_TOKEN'];
    env = {
      ...rest,
      MDE_AUTHORITY_HOST: simulator.url,
      MDE_TENANT_ID: simulator.sim.credentials.tenantId,
      MDE_CLIENT_ID: simulator.sim.credentials.clientId,
      MDE_CLIENT_SECRET: simulator.sim.credentials.clientSecret,
      NODE_EXTRA_CA_CERTS: join(dir, 'api-ca.pem'),
    };
  } else if (options.tokenLifetimeSec) {
    env = {
      ...env,
      MDE_ACCESS_TOKEN: simulator.sim.issueToken({ lifetimeSec: options.tokenLifetimeSec }),
    };
  }
  const store = createCampaignStore(admin, prefix);
  const workers: Child[] = [];
  let started = 0;
  const run: ChaosRun = {
    settings,
    redis,
    admin,
    sim: simulator.sim,
    env,
    dir,
    devicesFile,
    prefix,
    workers,
    startWorkers(count, workerEnv = run.env) {
      for (let i = 0; i < count; i++) {
        started += 1;
        workers.push(
          startChild(
            process.execPath,
            [paths.cli, 'worker', '--concurrency', '8'],
            workerEnv,
            `worker ${started}`,
          ),
        );
      }
    },
    async scan(extra = []) {
      const { lines } = await runChild(
        process.execPath,
        [
          paths.cli,
          'scan',
          '--devices',
          devicesFile,
          '--comment',
          `chaos ${name}`,
          '--json',
          ...extra,
        ],
        run.env,
        'fleetscan scan',
        120_000,
      );
      return (JSON.parse(lines.join('\n')) as { campaignId: string }).campaignId;
    },
    campaign: (id) => store.getCampaign(id).catch(() => null),
    async progress(id, share) {
      const deadline = Date.now() + settings.timeoutMs;
      while (Date.now() < deadline) {
        const c = await run.campaign(id);
        if (c && c.counts.requested + c.counts.failed >= share * settings.devices) return;
        await sleep(50);
      }
    },
    async restartRedis({ downMs, empty, restoreDir }) {
      await run.redis.kill('SIGKILL');
      await sleep(downMs);
      const target = empty ? join(dir, `redis-empty-${String(Date.now())}`) : redisDir;
      if (restoreDir) {
        rmSync(redisDir, { recursive: true, force: true });
        cpSync(restoreDir, redisDir, { recursive: true });
      }
      mkdirSync(target, { recursive: true });
      const again = await startRedisServer({ aof: true, port: run.redis.port, dir: target });
      run.redis = again;
    },
    snapshotRedis() {
      const copy = join(dir, `snapshot-${String(Date.now())}`);
      cpSync(redisDir, copy, { recursive: true });
      return copy;
    },
    async waitFinished(id) {
      const deadline = Date.now() + settings.timeoutMs;
      while (Date.now() < deadline) {
        const c = await run.campaign(id);
        if (c?.state === 'finished') return true;
        await sleep(100);
      }
      return false;
    },
    apiMs: (ms) => ms / settings.factor,
  };

  const began = Date.now();
  let campaignId = '';
  let note = '';
  let problem = '';
  let finished = false;
  try {
    const result = await body(run);
    campaignId = result.campaignId;
    note = result.note ?? '';
    problem = result.problem ?? '';
    finished = await run.waitFinished(campaignId);
  } finally {
    await Promise.all(workers.map((w) => w.stop('SIGTERM', 10_000)));
  }
  const elapsedMs = Date.now() - began;
  const tag = ` [fleetscan:${campaignId}]`;
  const perDevice = new Map<string, number>();
  for (const action of simulator.sim.actions()) {
    if (!action.requestorComment.endsWith(tag)) continue;
    perDevice.set(action.machineId, (perDevice.get(action.machineId) ?? 0) + 1);
  }
  const campaign = await run.campaign(campaignId);
  const outcome: ChaosOutcome = {
    scenario: name,
    devices: settings.devices,
    lost: ids.filter((id) => !perDevice.has(id)).length,
    scannedTwice: [...perDevice.values()].filter((n) => n > 1).length,
    failed: campaign?.counts.failed ?? 0,
    throttled: simulator.sim.stats().throttled,
    finished,
    elapsedMs,
    note,
    problem,
  };
  admin.disconnect();
  await simulator.stop();
  await run.redis.stop();
  rmSync(dir, { recursive: true, force: true });
  return outcome;
}
