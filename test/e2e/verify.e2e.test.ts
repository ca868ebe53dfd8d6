import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { maxInAnyWindow } from '../../src/simulator/build-simulator.js';
import { packageRoot } from '../../src/shared/package-root.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { withSimulator } from '../helpers/with-simulator.js';
import { recordCampaign } from '../redis/tracking-fixture.js';

let prefix = '';
let dir = '';
beforeAll(async () => {
  await ensureBuilt();
  spawnSync(process.execPath, ['scripts/copy-assets.js'], { cwd: packageRoot() });
}, 240_000);
afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  rmSync(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const RESULT_OF: Record<string, string> = {
  AntivirusScanCompleted: 'completed',
  AntivirusScanCancelled: 'cancelled',
  AntivirusScanFailed: 'failed',
};

describe('fleetscan verify', () => {
  it('proves per device only scans of the requested kind after delivery, calls overlaps ambiguous, within the hunting budget', async () => {
    prefix = uniquePrefix('verify');
    dir = mkdtempSync(join(tmpdir(), 'fleetscan-verify-'));
    const redis = new Redis(testRedisUrl());
    try {
      await withSimulator(
        {
          fleet: 1_000,
          fleetMix: { busy: 0 },
          timeScale: 100,
          // 10 queries per 600 ms: 20 queries must be paced by the client's hunting budget.
          huntingRateLimits: [{ cap: 10, windowMs: 60_000 }],
          evidence: { completedRate: 0.8, cancelledRate: 0.05, failedRate: 0.05 },
          // 10 % of devices also run Defender's own scheduled scans (Quick or Full) every 3 h.
          scheduledScans: { share: 0.1, everyMs: 3 * HOUR, fullShare: 0.3 },
        },
        async ({ url, sim }) => {
          const store = createCampaignStore(redis, prefix);
          const id = 'c-verify000001';
          const now = sim.now();
          // An earlier scan of some devices reported before this campaign: it proves nothing.
          sim.addActions(
            sim.machines.slice(0, 100).map((m) => ({
              machineId: m.id,
              comment: 'last week',
              createdMs: now - 30 * HOUR,
              finishesAtMs: now - 29 * HOUR,
            })),
          );
          const actions = sim.addActions(
            sim.machines.map((m, i) => ({
              machineId: m.id,
              comment: `weekly [fleetscan:${id}]`,
              createdMs: now - 2 * HOUR,
              finishesAtMs: now - HOUR,
              // Some never ran at all: no scan, no event.
              outcome: i % 40 === 3 ? 'TimeOut' : 'Succeeded',
            })),
          );
          await recordCampaign(store, id, now - 2 * HOUR - 1_000, actions);
          const config = join(dir, 'fleetscan.yaml');
          writeFileSync(config, 'hunting:\n  chunkSize: 50\n');

          const result = await runCli(['--config', config, 'verify', id, '--json'], {
            env: {
              REDIS_URL: testRedisUrl(),
              FLEETSCAN_PREFIX: prefix,
              FLEETSCAN_BUDGET_PREFIX: prefix,
              LOG_LEVEL: 'warn',
              MDE_ACCESS_TOKEN: sim.issueToken(),
              GRAPH_API_URL: url,
              GRAPH_ACCESS_TOKEN: sim.issueToken({ resource: 'https://graph.microsoft.com' }),
              FLEETSCAN_HUNTING_LIMITS: '10/600ms',
            },
            timeoutMs: 120_000,
          });
          expect(result.stderr).toBe('');
          expect(result.code).toBe(0);
          const summary = JSON.parse(result.stdout) as {
            devices: number;
            queries: number;
            counts: Record<string, number>;
          };
          expect(summary).toMatchObject({ devices: 1_000, queries: 20 });

          // The truth, from the raw rows: the Quick scans (ScanParametersIndex 1; ScanTypeIndex is
          // the engine) that ended within 2 h of delivery (here: the action's creation, as the
          // campaign records no Succeeded time). One scan proves its result, two are ambiguous.
          const byAction = new Map(actions.map((a) => [a.machineId, a]));
          const candidates = new Map<string, { at: number; type: string; scanId: string }[]>();
          let scheduledRows = 0;
          for (const event of sim.deviceEvents()) {
            const at = Date.parse(event.Timestamp);
            const fields = JSON.parse(event.AdditionalFields) as {
              ScanParametersIndex: number;
              ScanTypeIndex: number;
              ScanId: string;
            };
            expect(fields.ScanTypeIndex).toBe(3);
            const action = byAction.get(event.DeviceId);
            if (!action) continue;
            if (!actions.some((a) => a.evidence?.atMs === at && a.machineId === event.DeviceId))
              scheduledRows += 1;
            if (fields.ScanParametersIndex !== 1) continue;
            if (at < action.createdMs || at > action.createdMs + 2 * HOUR) continue;
            const list = candidates.get(event.DeviceId) ?? [];
            list.push({ at, type: event.ActionType, scanId: fields.ScanId });
            candidates.set(event.DeviceId, list);
          }
          expect(scheduledRows).toBeGreaterThan(0);
          const counts: Record<string, number> = {};
          for await (const device of store.iterateDevices(id)) {
            const found = (candidates.get(device.machineId) ?? []).sort((a, b) => a.at - b.at);
            const scans = new Set(found.map((c) => c.scanId)).size;
            const first = found[0];
            const expected =
              scans === 0 ? 'no-evidence' : scans > 1 ? 'ambiguous' : RESULT_OF[first?.type ?? ''];
            expect(device.scanResult).toBe(expected);
            expect(device.scanCompletedAt == null ? null : Date.parse(device.scanCompletedAt)).toBe(
              first?.at ?? null,
            );
            if (first) expect(device.scanEventType).toBe('Quick');
            counts[device.scanResult ?? ''] = (counts[device.scanResult ?? ''] ?? 0) + 1;
          }
          expect(summary.counts).toEqual({
            completed: counts['completed'] ?? 0,
            cancelled: counts['cancelled'] ?? 0,
            failed: counts['failed'] ?? 0,
            ambiguous: counts['ambiguous'] ?? 0,
            'no-evidence': counts['no-evidence'] ?? 0,
          });
          // Every kind of outcome is present, so the comparison above means something.
          for (const n of Object.values(summary.counts)) expect(n).toBeGreaterThan(0);

          const hunting = sim.calls().filter((c) => c.family === 'hunting');
          expect(hunting).toHaveLength(20);
          expect(hunting.filter((c) => c.status !== 200)).toEqual([]);
          expect(sim.stats().hunting.throttled).toBe(0);
          expect(
            maxInAnyWindow(
              hunting.map((c) => c.t),
              600,
            ),
          ).toBeLessThanOrEqual(10);
        },
      );
    } finally {
      redis.disconnect();
    }
  }, 180_000);
});
