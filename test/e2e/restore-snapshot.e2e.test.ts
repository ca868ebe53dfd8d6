import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignKeys } from '../../src/campaigns/campaign-keys.js';
import { startRedisServer, type OwnRedis } from '../../src/shared/redis-server.js';
import { SUPPORTED_PLATFORMS } from '../../src/simulator/fleet.js';
import { createSelfSignedCertificate } from '../../src/simulator/tls.js';
import { ensureBuilt, runCli, spawnCli, type CliProcess } from '../helpers/cli.js';
import {
  actionsCreatedPerDevice,
  simulatedTenantEnv,
  waitUntil,
} from '../helpers/simulated-tenant.js';
import { withSimulator } from '../helpers/with-simulator.js';

const TIME_SCALE = 100;
const SIM_LIMITS = [
  { cap: 100, windowMs: 60_000 },
  { cap: 300, windowMs: 600_000 },
];
const RATE_LIMITS = SIM_LIMITS.map((w) => `${w.cap}/${w.windowMs / TIME_SCALE}ms`).join(',');

let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-restore-'));
}, 240_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('a restore from an older RDB snapshot (README "Backups and restore")', () => {
  it('with the documented steps scans no device twice, the restored campaign and the lost one alike', async () => {
    const tls = await createSelfSignedCertificate();
    writeFileSync(join(dir, 'ca.pem'), tls.cert);
    const redisDir = join(dir, 'redis');
    let server: OwnRedis = await startRedisServer({ dir: mkdtempSync(redisDir) });
    const data = server.dir;
    const port = server.port;
    let redis = new Redis(server.url);
    const workers: CliProcess[] = [];
    const stopWorkers = async () => {
      for (const worker of workers) worker.child.kill('SIGTERM');
      for (const worker of workers.splice(0)) {
        const result = await worker.exited;
        expect(result.code, result.stderr).toBe(0);
      }
    };
    try {
      await withSimulator(
        {
          fleet: 360,
          seed: 23,
          timeScale: TIME_SCALE,
          rateLimits: SIM_LIMITS,
          faultRate: 0.01,
          latencyMs: [1, 15],
          tls,
          fleetMix: { busy: 0, unsupportedOs: 0.03, offline: 0 },
        },
        async ({ url, sim }) => {
          const env = simulatedTenantEnv({
            url,
            sim,
            redisUrl: server.url,
            prefix: 'restore',
            rateLimits: RATE_LIMITS,
            caFile: join(dir, 'ca.pem'),
          });
          const ids = sim.machines.map((m) => m.id);
          const first = join(dir, 'first.csv');
          const second = join(dir, 'second.csv');
          writeFileSync(first, `machineId\n${ids.slice(0, 300).join('\n')}\n`);
          writeFileSync(second, `machineId\n${ids.slice(300).join('\n')}\n`);
          const scan = async (file: string, extra: string[] = []) => {
            const result = await runCli(
              ['scan', '--devices', file, '--comment', 'restore', '--json', ...extra],
              { env },
            );
            expect(result.code, result.stderr).toBe(0);
            return (JSON.parse(result.stdout) as { campaignId: string }).campaignId;
          };
          const counts = async (id: string) =>
            redis.hgetall(`${campaignKeys('restore', id).campaign}:counts`);
          const requested = async (id: string) => Number((await counts(id))['requested'] ?? 0);
          const finished = async (id: string) =>
            (await redis.hget(campaignKeys('restore', id).campaign, 'state')) === 'finished';
          const startWorkers = () => {
            for (let i = 0; i < 2; i++)
              workers.push(
                spawnCli(['worker', '--concurrency', '8', '--lock-duration', '2s'], { env }),
              );
          };

          startWorkers();
          const weekly = await scan(first);
          await waitUntil(async () => (await requested(weekly)) >= 90, 'a third of the sweep');
          // The backup: an RDB snapshot of the store mid-campaign.
          await redis.save();
          copyFileSync(join(data, 'dump.rdb'), join(dir, 'snapshot.rdb'));
          // After the snapshot: more of the sweep, and a whole second campaign.
          const incident = await scan(second);
          await waitUntil(async () => finished(incident), 'the second campaign');
          await waitUntil(async () => (await requested(weekly)) >= 210, 'two thirds of the sweep');

          // The restore, as documented: stop the workers, put the snapshot back, start Redis.
          await stopWorkers();
          redis.disconnect();
          await server.kill('SIGKILL');
          copyFileSync(join(dir, 'snapshot.rdb'), join(data, 'dump.rdb'));
          server = await startRedisServer({ dir: data, port });
          redis = new Redis(server.url);
          expect(await requested(weekly)).toBeLessThan(210);
          expect(await redis.exists(campaignKeys('restore', incident).campaign)).toBe(0);

          // Then: the campaign the snapshot lost is re-run with its id, and the workers start.
          await scan(second, ['--campaign-id', incident]);
          startWorkers();
          await waitUntil(async () => finished(weekly), 'the restored sweep to finish');
          await waitUntil(async () => finished(incident), 'the re-run campaign to finish');
          await stopWorkers();

          const created = actionsCreatedPerDevice(sim);
          for (const machine of sim.machines) {
            const supported = SUPPORTED_PLATFORMS.includes(machine.osPlatform);
            expect(created.get(machine.id) ?? 0, machine.id).toBe(supported ? 1 : 0);
          }
          for (const id of [weekly, incident]) {
            const c = await counts(id);
            expect(Number(c['queued'] ?? 0) + Number(c['deferred'] ?? 0), id).toBe(0);
          }
        },
      );
    } finally {
      for (const worker of workers) worker.child.kill('SIGKILL');
      redis.disconnect();
      await server.stop();
      rmSync(data, { recursive: true, force: true });
    }
  }, 600_000);
});
