import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignKeys } from '../../src/campaigns/campaign-keys.js';
import { keyLayoutKey } from '../../src/ops/key-layout.js';
import { listWorkers, WORKER_HEARTBEAT_MS } from '../../src/ops/worker-presence.js';
import { STORE_SCHEMA } from '../../src/ops/store-schema.js';
import { packageRoot } from '../../src/shared/package-root.js';
import { SUPPORTED_PLATFORMS } from '../../src/simulator/fleet.js';
import { createSelfSignedCertificate } from '../../src/simulator/tls.js';
import { CLI_MAIN, ensureBuilt, type CliProcess } from '../helpers/cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import {
  actionsCreatedPerDevice,
  simulatedTenantEnv,
  waitUntil,
} from '../helpers/simulated-tenant.js';
import { withSimulator } from '../helpers/with-simulator.js';

const root = packageRoot();
const TIME_SCALE = 100;
const SIM_LIMITS = [
  { cap: 100, windowMs: 60_000 },
  { cap: 300, windowMs: 600_000 },
];
const RATE_LIMITS = SIM_LIMITS.map((w) => `${w.cap}/${w.windowMs / TIME_SCALE}ms`).join(',');

/** The newest release in CHANGELOG.md: `## X.Y.Z — date, commit HASH`. */
function previousRelease(): { version: string; commit: string } {
  const changelog = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');
  const match = /^## (\d+\.\d+\.\d+) — [\d-]+, commit ([0-9a-f]{7,40})$/m.exec(changelog);
  if (!match) throw new Error('CHANGELOG.md names no release with its commit');
  return { version: match[1] ?? '', commit: match[2] ?? '' };
}

/**
 * The previous release built from its commit (git archive: the repository is left as it is),
 * once per machine: its compiled CLI path. It shares this checkout's node_modules through a link
 * made anew on every run: a build cached by an earlier checkout (a clone since deleted) would
 * otherwise resolve its packages through a dangling link and fail to start.
 */
function buildRelease(commit: string): string {
  const dir = join(tmpdir(), `fleetscan-release-${commit}`);
  const main = join(dir, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(join(dir, '.built'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const archive = spawnSync('git', ['archive', '--format=tar', commit], {
      cwd: root,
      maxBuffer: 1 << 30,
    });
    if (archive.status !== 0) {
      throw new Error(
        `cannot read release commit ${commit} from git (a shallow clone? run git fetch --unshallow): ${archive.stderr.toString()}`,
      );
    }
    const untar = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout });
    if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr.toString()}`);
  }
  linkNodeModules(dir);
  if (!existsSync(join(dir, '.built'))) {
    const tsc = spawnSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      { cwd: dir, encoding: 'utf8' },
    );
    if (!existsSync(main)) throw new Error(`release build failed:\n${tsc.stdout}${tsc.stderr}`);
    spawnSync(process.execPath, [join(dir, 'scripts', 'copy-assets.js')], { cwd: dir });
    writeFileSync(join(dir, '.built'), commit);
  }
  const version = spawnSync(process.execPath, [main, '--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    throw new Error(
      `the release build in ${dir} does not start (${String(version.status)}): ${version.stderr}`,
    );
  }
  return main;
}

/** Points the release's node_modules at this checkout's, whatever an earlier run left there. */
function linkNodeModules(dir: string): void {
  const link = join(dir, 'node_modules');
  rmSync(link, { recursive: true, force: true });
  symlinkSync(join(root, 'node_modules'), link);
}

/** A CLI process of a given build, with only the environment the test gives. */
function spawnBuild(main: string, args: readonly string[], env: NodeJS.ProcessEnv): CliProcess {
  const child = spawn(process.execPath, [main, ...args], {
    cwd: root,
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

let oldMain: string;
let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  oldMain = buildRelease(previousRelease().commit);
  dir = join(tmpdir(), `fleetscan-upgrade-${process.pid}`);
  mkdirSync(dir, { recursive: true });
}, 600_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('a rolling upgrade from the previous release', () => {
  it('moves workers one by one to this version mid-campaign: 0 devices lost, 0 scanned twice', async () => {
    const tls = await createSelfSignedCertificate();
    writeFileSync(join(dir, 'ca.pem'), tls.cert);
    const prefix = uniquePrefix('upgrade');
    const redis = new Redis(testRedisUrl());
    const workers: CliProcess[] = [];
    try {
      await withSimulator(
        {
          fleet: 400,
          seed: 11,
          timeScale: TIME_SCALE,
          rateLimits: SIM_LIMITS,
          faultRate: 0.02,
          lostRate: 0.01,
          latencyMs: [1, 15],
          tls,
          fleetMix: { busy: 0.05, unsupportedOs: 0.03, offline: 0 },
          lifecycle: { otherScanMs: 20 * 60_000 },
        },
        async ({ url, sim }) => {
          const config = join(dir, 'upgrade.yaml');
          writeFileSync(
            config,
            [
              'defender: { requestTimeout: 3s }',
              'limits: { guard: 5ms, throttleDefault: 600ms }',
              'scan: { attempts: 8, backoff: 50ms, pendingRetry: 300ms, pendingRetryCap: 2s, pendingMaxWait: 90s, actionPoll: 1s }',
            ].join('\n'),
          );
          const env = simulatedTenantEnv({
            url,
            sim,
            redisUrl: testRedisUrl(),
            prefix,
            rateLimits: RATE_LIMITS,
            caFile: join(dir, 'ca.pem'),
            configFile: config,
          });
          const known = sim.machines.map((m) => m.id);
          writeFileSync(join(dir, 'devices.csv'), `machineId\n${known.join('\n')}\n`);

          // The previous release runs the campaign: its scan, two of its workers.
          const workerArgs = ['worker', '--concurrency', '8', '--lock-duration', '2s'];
          workers.push(spawnBuild(oldMain, workerArgs, env), spawnBuild(oldMain, workerArgs, env));
          const scan = await spawnBuild(
            oldMain,
            ['scan', '--devices', join(dir, 'devices.csv'), '--comment', 'upgrade', '--json'],
            env,
          ).exited;
          expect(scan.code, scan.stderr).toBe(0);
          const { campaignId } = JSON.parse(scan.stdout) as { campaignId: string };
          const campaignKey = campaignKeys(prefix, campaignId).campaign;
          const requested = async () =>
            Number((await redis.hget(`${campaignKey}:counts`, 'requested')) ?? 0);

          // One by one: stop an old worker (SIGTERM: it records its calls in flight), start a new one.
          for (const [i, share] of [
            [0, 0.25],
            [1, 0.6],
          ] as const) {
            await waitUntil(
              async () => (await requested()) >= share * known.length,
              `${share * 100} % requested`,
            );
            workers[i]!.child.kill('SIGTERM');
            const stopped = await workers[i]!.exited;
            // Work was left for this version: the upgrade happens mid-campaign.
            if (i === 0) expect(await requested()).toBeLessThan(known.length);
            expect(
              stopped.code,
              `old worker ${String(i)}: ${String(stopped.signal)} ${stopped.stderr}`,
            ).toBe(0);
            const upgraded = spawnBuild(CLI_MAIN, workerArgs, env);
            workers[i] = upgraded;
            // As an operator would: the next old worker stops only once this one is up.
            await waitUntil(
              async () =>
                (await listWorkers(redis, prefix, { intervalMs: WORKER_HEARTBEAT_MS })).some(
                  (w) => w.pid === upgraded.child.pid,
                ),
              `the upgraded worker ${String(i)} to beat`,
            );
          }
          await waitUntil(
            async () => (await redis.hget(campaignKey, 'state')) === 'finished',
            'the campaign to finish on the new workers',
          );
          for (const worker of workers) worker.child.kill('SIGTERM');
          for (const worker of workers) {
            const result = await worker.exited;
            expect(result.code, `new worker: ${String(result.signal)} ${result.stderr}`).toBe(0);
          }
          // The new version marked the store it joined, with the layout the old one reads too.
          expect(await redis.get(keyLayoutKey(prefix))).toBe(String(STORE_SCHEMA));

          // Ground truth from the simulator: one action at most per device, none left out.
          const created = actionsCreatedPerDevice(sim);
          const states = await redis.hgetall(`${campaignKey}:counts`);
          let supported = 0;
          for (const machine of sim.machines) {
            expect(created.get(machine.id) ?? 0, machine.id).toBeLessThanOrEqual(1);
            if (SUPPORTED_PLATFORMS.includes(machine.osPlatform)) supported += 1;
          }
          expect(Number(states['requested'])).toBe(supported);
          expect(Number(states['failed'])).toBe(known.length - supported);
          expect(Number(states['queued'] ?? 0) + Number(states['deferred'] ?? 0)).toBe(0);
          expect(sim.stats().throttled).toBe(0);
        },
      );
    } finally {
      for (const worker of workers) worker.child.kill('SIGKILL');
      redis.disconnect();
      await cleanupPrefix(testRedisUrl(), prefix);
    }
  }, 600_000);
});
