import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import type { MachineAction } from '../../src/defender/machine-action.js';
import type { MachineActionLister } from '../../src/tracking/find-own-action.js';
import { buildSimulator, type Simulator } from '../../src/simulator/build-simulator.js';
import { createActionTracker, type RoundResult } from '../../src/tracking/action-tracker.js';
import { createLifecycleStore } from '../../src/tracking/lifecycle-store.js';
import { createFencedLock, trackerLockKey } from '../../src/tracking/tracker-lock.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { recordCampaign, silent, simClient } from './tracking-fixture.js';

const redis = new Redis(testRedisUrl());
let prefix = '';
const sims: Simulator[] = [];
afterAll(() => {
  redis.disconnect();
});
afterEach(async () => {
  for (const sim of sims.splice(0)) await sim.close();
  await cleanupPrefix(testRedisUrl(), prefix);
});

const MINUTE = 60_000;
const DAY = 86_400_000;

async function listeningSim(fleet: number, clock: { now: number }) {
  const sim = await buildSimulator({
    fleet,
    fleetMix: { offline: 0, unsupportedOs: 0, busy: 0, inactive: 0, excluded: 0, duplicate: 0 },
    now: () => clock.now,
  });
  sims.push(sim);
  const url = await sim.app.listen({ port: 0, host: '127.0.0.1' });
  return { sim, url };
}

function tracker(
  lister: MachineActionLister,
  clock: { now: number },
  options: { lockTtlMs?: number; renewEvery?: number } = {},
) {
  return createActionTracker({
    tenant: 'default',
    store: createCampaignStore(redis, prefix),
    lifecycle: createLifecycleStore(redis, prefix),
    lister,
    lock: createFencedLock(redis, trackerLockKey(prefix, 'default'), options.lockTtlMs ?? 60_000),
    clock: { now: () => clock.now, sleep: () => Promise.resolve() },
    log: silent,
    settings: { intervalMs: 2 * MINUTE, horizonMs: 7 * DAY, renewEvery: options.renewEvery },
  });
}

const listCalls = (sim: Simulator) =>
  sim.calls().filter((c) => c.family === 'machineActions').length;

describe('action tracker', () => {
  it('tracks 100,000 actions of three campaigns with at most 11 list calls a round and stops once all are terminal', async () => {
    prefix = uniquePrefix('track');
    const t0 = Date.parse('2026-12-01T00:00:00Z');
    const clock = { now: t0 };
    const { sim, url } = await listeningSim(100_000, clock);
    const store = createCampaignStore(redis, prefix);
    const ids = ['c-track0000001', 'c-track0000002', 'c-track0000003'];
    const sizes = [60_000, 30_000, 10_000];
    let offset = 0;
    for (const [i, id] of ids.entries()) {
      const machines = sim.machines.slice(offset, offset + (sizes[i] ?? 0));
      offset += machines.length;
      const actions = sim.addActions(
        machines.map((m, n) => ({
          machineId: m.id,
          comment: `weekly [fleetscan:${id}]`,
          // Created over 5 minutes as a real campaign's actions are, a few ms apart (a whole
          // list answer inside one millisecond costs extra $skip calls; see the contract tests).
          createdMs: t0 + 1_000 + n * 3 + i,
          // Half end after 10 minutes, the other half after 30 (one in 50 times out).
          finishesAtMs: t0 + (n % 2 === 0 ? 10 : 30) * MINUTE,
          outcome: n % 50 === 1 ? 'TimeOut' : 'Succeeded',
        })),
      );
      await recordCampaign(store, id, t0, actions);
    }
    // Someone else's scans on the same devices, and one that only mentions a campaign.
    sim.addActions(
      sim.machines.slice(0, 999).map((m) => ({
        machineId: m.id,
        comment: 'portal scan',
        requestor: 'analyst@contoso.com',
        createdMs: t0 + 2_000,
        finishesAtMs: t0 + 40 * MINUTE,
      })),
    );
    sim.addActions([
      {
        machineId: sim.machines[5]?.id ?? '',
        comment: `copy of [fleetscan:${ids[0] ?? ''}] by hand`,
        createdMs: t0 + 3_000,
        finishesAtMs: t0 + 50 * MINUTE,
      },
    ]);
    expect(sim.actions()).toHaveLength(101_000);
    const client = simClient(sim, url);
    const one = tracker(client, clock);

    const rounds: { result: RoundResult; calls: number }[] = [];
    for (const at of [2, 12, 31, 33]) {
      clock.now = t0 + at * MINUTE;
      const before = listCalls(sim);
      rounds.push({ result: await one.runRound(), calls: listCalls(sim) - before });
    }
    client.close();

    const [pending, half, settled, after] = rounds;
    for (const round of [pending, half, settled]) {
      expect(round?.calls).toBeGreaterThan(0);
      expect(round?.calls).toBeLessThanOrEqual(11);
      expect(round?.result.listed).toBe(101_000);
    }
    expect(pending?.result).toMatchObject({ campaigns: 3, changed: 100_000, settled: [] });
    expect(half?.result).toMatchObject({ changed: 50_000, settled: [] });
    expect(settled?.result.changed).toBe(50_000);
    expect([...(settled?.result.settled ?? [])].sort()).toEqual(ids);
    // Nothing open any more: no list call at all.
    expect(after).toMatchObject({ calls: 0, result: { campaigns: 0, listed: 0 } });

    const lifecycle = createLifecycleStore(redis, prefix);
    for (const id of ids) {
      expect((await lifecycle.get(id)).settledAt).toBe(t0 + 31 * MINUTE);
    }
    const truth = new Map(sim.actions().map((a) => [a.id, a]));
    let checked = 0;
    for await (const device of store.iterateDevices(ids[2] ?? '')) {
      const action = truth.get(device.machineActionId ?? '');
      expect(device.actionStatus).toBe(action?.transitions.at(-1)?.status);
      expect(Date.parse(device.actionUpdatedAt ?? '')).toBe(action?.transitions.at(-1)?.atMs);
      checked += 1;
    }
    expect(checked).toBe(10_000);
  }, 300_000);

  it('never lets two trackers overlap, and fences out a holder whose lock expired', async () => {
    prefix = uniquePrefix('track');
    const t0 = Date.parse('2026-12-01T00:00:00Z');
    const clock = { now: t0 };
    const { sim, url } = await listeningSim(2_000, clock);
    const store = createCampaignStore(redis, prefix);
    const id = 'c-fence0000001';
    const actions = sim.addActions(
      sim.machines.map((m) => ({
        machineId: m.id,
        comment: `x [fleetscan:${id}]`,
        createdMs: t0 + 1_000,
        finishesAtMs: t0 + 10 * MINUTE,
      })),
    );
    await recordCampaign(store, id, t0, actions);
    const client = simClient(sim, url, { pageSize: 250 });

    // Two trackers on two "processes" racing round after round: rounds never overlap in time.
    const spans: { who: string; start: number; end: number }[] = [];
    const race = async (who: string) => {
      const own = tracker(client, clock, { lockTtlMs: 150, renewEvery: 250 });
      for (let i = 0; i < 6; i++) {
        const start = performance.now();
        const r = await own.runRound();
        if (r.ran) spans.push({ who, start, end: performance.now() });
        await own.release(); // hand over: the other one may take the next round
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    await Promise.all([race('a'), race('b')]);
    spans.sort((x, y) => x.start - y.start);
    expect(spans.length).toBeGreaterThanOrEqual(6);
    for (let i = 1; i < spans.length; i++) {
      expect(spans[i]?.start).toBeGreaterThanOrEqual(spans[i - 1]?.end ?? Infinity);
    }

    // A holder that stalls past its lock's TTL mid-round may not write afterwards.
    let resume: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => {
      resume = resolve;
    });
    let reached: () => void = () => undefined;
    const atStall = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const stalling: MachineActionLister = {
      async *listMachineActions(filter) {
        const seen: MachineAction[] = [];
        for await (const action of client.listMachineActions(filter)) seen.push(action);
        reached();
        await stalled;
        yield* seen;
      },
    };
    // The lease runs out while the holder stalls: ended by hand, not by a short TTL that a
    // loaded host could run out before the round even lists.
    const slow = tracker(stalling, clock, { lockTtlMs: 60_000 });
    const fast = tracker(client, clock, { lockTtlMs: 60_000 });
    const slowRound = slow.runRound(); // lists while everything is Pending, then stalls
    await atStall;
    await redis.del(trackerLockKey(prefix, 'default')); // its lock expires
    clock.now = t0 + 11 * MINUTE;
    const fastRound = await fast.runRound();
    expect(fastRound).toMatchObject({ ran: true, settled: [id] });
    resume();
    expect(await slowRound).toMatchObject({ ran: true, fencedOut: true, changed: 0 });
    const device = await store.getDevice(id, sim.machines[0]?.id ?? '');
    expect(device?.actionStatus).toBe('Succeeded'); // the stale Pending never landed
    client.close();
  });

  it('stops tracking at the horizon and records what stayed open, without a list call', async () => {
    prefix = uniquePrefix('track');
    const t0 = Date.parse('2026-12-01T00:00:00Z');
    const clock = { now: t0 };
    const { sim } = await listeningSim(3, clock);
    const store = createCampaignStore(redis, prefix);
    const id = 'c-horizon00001';
    const actions = sim.addActions(
      sim.machines.map((m, i) => ({
        machineId: m.id,
        comment: `x [fleetscan:${id}]`,
        createdMs: t0,
        finishesAtMs: i === 0 ? t0 + MINUTE : t0 + 30 * DAY,
      })),
    );
    await recordCampaign(store, id, t0, actions);
    await store.updateActionStatuses(id, [
      { id: actions[0]?.id ?? '', machineId: actions[0]?.machineId ?? '', status: 'Succeeded' },
    ]);
    const filters: unknown[] = [];
    const lister: MachineActionLister = {
      // eslint-disable-next-line require-yield
      async *listMachineActions(filter) {
        filters.push(filter);
        await Promise.resolve();
      },
    };
    clock.now = t0 + 7 * DAY;
    const one = tracker(lister, clock);
    const round = await one.runRound();
    expect(round).toMatchObject({ ran: true, campaigns: 0, ended: [id], listed: 0 });
    expect(filters).toEqual([]);
    const lifecycle = await createLifecycleStore(redis, prefix).get(id);
    expect(lifecycle).toMatchObject({
      trackingEndedAt: t0 + 7 * DAY,
      openAtEnd: 2,
      settledAt: null,
    });
    expect(await one.runRound()).toMatchObject({ ran: true, ended: [], campaigns: 0 });
  });
});
