import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { statusAt } from '../../src/simulator/machine-actions.js';
import { packageRoot } from '../../src/shared/package-root.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { withSimulator } from '../helpers/with-simulator.js';
import { recordCampaign } from '../redis/tracking-fixture.js';

let prefix = '';
beforeAll(async () => {
  await ensureBuilt();
  spawnSync(process.execPath, ['scripts/copy-assets.js'], { cwd: packageRoot() });
}, 240_000);
afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
});

const HOUR = 3_600_000;

describe('fleetscan cancel --actions', () => {
  it('cancels every own pending action exactly once, leaves joined ones alone, and a second run cancels nothing', async () => {
    prefix = uniquePrefix('kill');
    const redis = new Redis(testRedisUrl());
    try {
      await withSimulator(
        { fleet: 560, fleetMix: { busy: 0, offline: 0 }, timeScale: 100, latencyMs: [1, 5] },
        async ({ url, sim }) => {
          const store = createCampaignStore(redis, prefix);
          const id = 'c-killswitch01';
          const now = sim.now();
          const [own, joined, finished, waiting] = [
            sim.machines.slice(0, 450),
            sim.machines.slice(450, 500),
            sim.machines.slice(500, 510),
            sim.machines.slice(510, 530),
          ];
          const ownActions = sim.addActions(
            own.map((m) => ({
              machineId: m.id,
              comment: `incident [fleetscan:${id}]`,
              createdMs: now - 1_000,
              finishesAtMs: now + HOUR,
            })),
          );
          const joinedActions = sim.addActions(
            joined.map((m) => ({
              machineId: m.id,
              comment: 'portal scan',
              requestor: 'analyst@contoso.com',
              createdMs: now - 5_000,
              finishesAtMs: now + HOUR,
            })),
          );
          // Finished since they were recorded Pending: the cancel is refused, the action is final.
          const finishedActions = sim.addActions(
            finished.map((m) => ({
              machineId: m.id,
              comment: `incident [fleetscan:${id}]`,
              createdMs: now - 2_000,
              finishesAtMs: now - 500,
            })),
          );
          await recordCampaign(
            store,
            id,
            now - 10_000,
            [...ownActions, ...joinedActions, ...finishedActions],
            new Set(joinedActions.map((a) => a.id)),
          );
          await store.addDevices(
            id,
            waiting.map((m) => m.id),
          );

          const env = {
            REDIS_URL: testRedisUrl(),
            FLEETSCAN_PREFIX: prefix,
            FLEETSCAN_BUDGET_PREFIX: prefix,
            LOG_LEVEL: 'warn',
            MDE_API_URL: url,
            MDE_ACCESS_TOKEN: sim.issueToken({ lifetimeSec: 3_600 }),
            FLEETSCAN_RATE_LIMITS: '100/600ms,1500/36s',
          };
          const first = await runCli(
            ['cancel', id, '--actions', '--comment', 'wrong devices', '--json'],
            {
              env,
              timeoutMs: 120_000,
            },
          );
          expect(first.stderr).toBe('');
          expect(first.code).toBe(0);
          expect(JSON.parse(first.stdout)).toMatchObject({
            waitingCancelled: 20,
            cancelled: 450,
            alreadyFinal: 10,
            refused: 0,
            joinedUntouched: 50,
          });

          const cancels = sim.calls().filter((c) => c.family === 'cancel');
          const ok = cancels.filter((c) => c.status === 200).map((c) => c.path.split('/')[3]);
          expect(ok).toHaveLength(450);
          expect(new Set(ok)).toEqual(new Set(ownActions.map((a) => a.id)));
          expect(sim.calls().filter((c) => c.status === 429)).toHaveLength(0);
          for (const action of ownActions) {
            expect(statusAt(action, sim.now())).toBe('Cancelled');
            expect(action.cancellationComment).toBe(`wrong devices [fleetscan:${id}]`);
          }
          for (const action of joinedActions) {
            expect(statusAt(action, sim.now())).toBe('Pending');
            expect(action.cancellationMs).toBeNull();
          }
          const device = await store.getDevice(id, own[0]?.id ?? '');
          expect(device?.cancelResult).toBe('cancelled');

          const callsBefore = sim.calls().length;
          const second = await runCli(['cancel', id, '--actions', '--json'], { env });
          expect(second.code).toBe(0);
          expect(JSON.parse(second.stdout)).toMatchObject({
            waitingCancelled: 0,
            cancelled: 0,
            alreadyFinal: 0,
            doneBefore: 460,
            joinedUntouched: 50,
          });
          expect(sim.calls().length).toBe(callsBefore);
        },
      );
    } finally {
      redis.disconnect();
    }
  }, 180_000);
});
