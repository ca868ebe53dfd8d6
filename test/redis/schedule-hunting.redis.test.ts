import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import type { EvidenceSourceDeps } from '../../src/control/evidence-sources.js';
import type { BudgetLane } from '../../src/lanes/budget-lane.js';
import { describeTargetsOf } from '../../src/schedules/describe-targets.js';
import { fireSchedule } from '../../src/schedules/fire-schedule.js';
import { buildScheduleSpec } from '../../src/schedules/schedule-spec.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { machineId, silent } from './schedule-fixture.js';

const HUNT =
  'DeviceFileEvents | where Timestamp > ago(1d) | where SHA256 == "abc" | distinct DeviceId';

let prefix = '';
const connections: Redis[] = [];
afterEach(async () => {
  await Promise.all(connections.splice(0).map((r) => r.quit()));
  if (prefix) await cleanupPrefix(testRedisUrl(), prefix);
});

/** A Graph that answers every hunting query with these rows. */
function graphAnswering(rows: Record<string, unknown>[], schema = [{ name: 'DeviceId' }]) {
  const queries: string[] = [];
  const graph: EvidenceSourceDeps['graph'] = {
    runHuntingQuery: (query) => {
      queries.push(query);
      return Promise.resolve({ schema, results: rows });
    },
    getIncident: () => Promise.reject(new Error('not asked')),
    getAlert: () => Promise.reject(new Error('not asked')),
  };
  return { graph, queries };
}

function fireDeps(graph: EvidenceSourceDeps['graph']) {
  prefix = uniquePrefix('sched-hunt');
  const redis = new Redis(testRedisUrl());
  connections.push(redis);
  const countingLane = {
    push: (_campaign: unknown, devices: readonly unknown[]) => Promise.resolve(devices.length),
  } as unknown as BudgetLane;
  const campaigns = createCampaignStore(redis, prefix);
  return {
    campaigns,
    deps: {
      campaigns,
      lanes: { forTenant: () => countingLane },
      lister: () => {
        throw new Error('a hunting schedule lists no machines');
      },
      graph: () => graph,
      log: silent,
    },
  };
}

const spec = (extra: Record<string, unknown> = {}) =>
  buildScheduleSpec(
    { name: 'ioc-sweep', cron: '0 6 * * *', hunting: HUNT, comment: 'Daily IOC sweep', ...extra },
    'test',
    '/',
  );

describe('a schedule whose devices come from a hunting query', () => {
  it('runs the query at every fire and starts a campaign of its devices, the query kept as source', async () => {
    const { graph, queries } = graphAnswering([
      { DeviceId: machineId(1) },
      { DeviceId: machineId(2) },
      { DeviceId: machineId(1) },
    ]);
    const { deps, campaigns } = fireDeps(graph);
    const s = spec({ priority: 'urgent' });
    expect(describeTargetsOf(s.targets)).toBe(`hunting:${HUNT}`);
    const at = { planned: Date.now(), actual: Date.now(), manual: false, createdBy: 'schedule' };
    const fired = await fireSchedule(deps, s, at);
    expect(fired).toMatchObject({ outcome: 'started', counts: { queued: 2 } });
    const campaign = await campaigns.getCampaign(fired.campaignId ?? '');
    expect(campaign).toMatchObject({
      source: `hunting[3 rows]:${HUNT}`,
      schedule: 'ioc-sweep',
      priority: 'urgent',
    });
    await fireSchedule(deps, s, { ...at, planned: at.planned + 86_400_000 });
    expect(queries).toEqual([HUNT, HUNT]);
  });

  it('records a fire whose query names no device as failed-to-resolve, with the reason', async () => {
    const { graph } = graphAnswering([{ DeviceName: 'a' }], [{ name: 'DeviceName' }]);
    const { deps } = fireDeps(graph);
    const now = Date.now();
    const fired = await fireSchedule(deps, spec(), {
      planned: now,
      actual: now,
      manual: false,
      createdBy: 'schedule',
    });
    expect(fired.outcome).toBe('failed-to-resolve');
    expect(fired.reason).toMatch(/no DeviceId column/);
  });

  it('refuses hunting beside another source, and includeInactive with it', () => {
    expect(() => spec({ tags: ['Servers'] })).toThrow(/exactly one of: .*hunting/);
    expect(() => spec({ includeInactive: true })).toThrow(/includeInactive applies/);
  });

  it('keeps specs without hunting as they were stored before (no new key)', () => {
    const plain = buildScheduleSpec(
      { name: 'nightly', cron: '0 2 * * *', all: true, comment: 'x' },
      'test',
      '/',
    );
    expect('hunting' in plain.targets).toBe(false);
  });
});
