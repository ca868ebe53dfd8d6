import { rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scheduledCampaignId } from '../../src/campaigns/campaign-id.js';
import { campaignKeys } from '../../src/campaigns/campaign-keys.js';
import { createFiringLock } from '../../src/schedules/firing-lock.js';
import { scheduleKeys } from '../../src/schedules/schedule-keys.js';
import type { PendingFire } from '../../src/schedules/schedule.js';
import { scheduleView } from '../../src/schedules/schedule-view.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { deviceFile, machineId, manualClock, scheduleProcess, spec } from './schedule-fixture.js';

const at = (iso: string) => new Date(iso).getTime();
const MIN = 60_000;
const T0 = at('2026-01-01T00:00:00Z');

let prefix: string;
let file: string;
const closers: (() => Promise<void>)[] = [];

beforeEach(() => {
  prefix = uniquePrefix('sched');
  file = deviceFile(3);
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  rmSync(dirname(file), { recursive: true, force: true });
  await cleanupPrefix(testRedisUrl(), prefix);
});

function open(
  clock: ReturnType<typeof manualClock>,
  options?: Parameters<typeof scheduleProcess>[3],
) {
  const p = scheduleProcess(testRedisUrl(), prefix, clock, options);
  closers.push(() => p.close());
  return p;
}

/** Resolves once the firing lock's lease has run out (Redis expired its key). */
async function leaseRunsOut(p: ReturnType<typeof open>) {
  await expect
    .poll(() => p.redis.exists(scheduleKeys(prefix).lock), { timeout: 10_000, interval: 20 })
    .toBe(0);
}

/** History oldest first, as [planned ISO minute, outcome]. */
async function outcomes(p: ReturnType<typeof open>, name: string) {
  return (await p.store.history(name, 100))
    .reverse()
    .map((r) => [new Date(r.planned).toISOString().slice(11, 16), r.outcome]);
}

describe('schedule firing loop', () => {
  it('fires a due planned time once and creates a campaign linked to the schedule', async () => {
    const clock = manualClock(T0);
    const p = open(clock);
    await p.store.put(spec({ name: 'nightly', devices: file }), T0);
    clock.set(T0 + 10 * MIN + 500);
    await p.runner.tickOnce();
    await p.runner.tickOnce();
    const [entry] = await p.store.history('nightly');
    expect(await outcomes(p, 'nightly')).toEqual([['00:10', 'started']]);
    expect(entry?.counts?.queued).toBe(3);
    const campaign = await p.campaigns.getCampaign(entry?.campaignId ?? '');
    expect(campaign).toMatchObject({ schedule: 'nightly', priority: 'background', total: 3 });
    expect(campaign?.comment).toMatch(/^test \(schedule nightly\) \[fleetscan:c-/);
    expect((await p.store.get('nightly'))?.state.runs).toBe(1);
    const audited = await p.audit.list();
    expect(audited.map((e) => [e.action, e.target, e.who, e.source, e.from, e.outcome])).toEqual([
      ['schedule.fire', entry?.campaignId, 'schedule:nightly', 'schedule', 'test', 'ok'],
    ]);
    expect(audited[0]?.detail).toBe('started, 3 devices queued (planned 2026-01-01T00:10:00.000Z)');
    // An ordinary run is a new campaign: no reconcile pass (nor its WARN) before its first call.
    const keys = campaignKeys(prefix, entry?.campaignId ?? '');
    expect(await p.redis.hexists(keys.campaign, 'reconcile')).toBe(0);
  });

  it('after workers were stopped over three planned times, fires one within catch-up and records the others missed', async () => {
    const clock = manualClock(T0);
    const first = open(clock);
    await first.store.put(
      spec({ name: 'every10', devices: file, overlap: 'allow', catchup: '15m' }),
      T0,
    );
    clock.set(T0 + 10 * MIN + 1_000);
    await first.runner.tickOnce();
    await first.runner.stop(); // every worker stopped
    clock.set(T0 + 41 * MIN); // 00:20, 00:30 and 00:40 pass unseen
    const restarted = open(clock);
    await restarted.runner.tickOnce();
    await restarted.runner.tickOnce();
    expect(await outcomes(restarted, 'every10')).toEqual([
      ['00:10', 'started'],
      ['00:20', 'missed'],
      ['00:30', 'missed'],
      ['00:40', 'started'],
    ]);
    const campaigns = await restarted.campaigns.listCampaigns();
    expect(campaigns).toHaveLength(2); // never a burst
    const history = await restarted.store.history('every10');
    expect(history.map((r) => r.reason)).toEqual([
      null,
      'superseded by a later planned time',
      'found 21m late',
      null,
    ]);
  });

  it('records skipped-overlap while the previous run still has queued devices, and fires again once it is done', async () => {
    const clock = manualClock(T0);
    const p = open(clock);
    await p.store.put(spec({ name: 'skipper', devices: file }), T0);
    clock.set(T0 + 10 * MIN);
    await p.runner.tickOnce();
    clock.set(T0 + 20 * MIN);
    await p.runner.tickOnce();
    const [previous] = await p.campaigns.listCampaigns();
    for (let i = 1; i <= 3; i += 1)
      await p.campaigns.markCancelled(previous?.id ?? '', machineId(i));
    clock.set(T0 + 30 * MIN);
    await p.runner.tickOnce();
    expect(await outcomes(p, 'skipper')).toEqual([
      ['00:10', 'started'],
      ['00:20', 'skipped-overlap'],
      ['00:30', 'started'],
    ]);
  });

  it('with buffer-one, starts the buffered fire right after the previous run ends and skips a second one', async () => {
    const clock = manualClock(T0);
    const p = open(clock);
    await p.store.put(spec({ name: 'buffered', devices: file, overlap: 'buffer-one' }), T0);
    clock.set(T0 + 10 * MIN);
    await p.runner.tickOnce();
    clock.set(T0 + 20 * MIN);
    await p.runner.tickOnce(); // buffered
    expect((await p.store.get('buffered'))?.state.buffered).toBe(T0 + 20 * MIN);
    clock.set(T0 + 30 * MIN);
    await p.runner.tickOnce(); // the buffer holds one: skipped
    const [previous] = await p.campaigns.listCampaigns();
    for (let i = 1; i <= 3; i += 1)
      await p.campaigns.markCancelled(previous?.id ?? '', machineId(i));
    clock.set(T0 + 31 * MIN);
    await p.runner.tickOnce();
    const history = (await p.store.history('buffered')).reverse();
    expect(history.map((r) => [r.planned - T0, r.actual - T0, r.outcome])).toEqual([
      [10 * MIN, 10 * MIN, 'started'],
      [30 * MIN, 30 * MIN, 'skipped-overlap'],
      [20 * MIN, 31 * MIN, 'started'],
    ]);
    expect((await p.store.get('buffered'))?.state.buffered).toBeNull();
  });

  it('re-reads the device file at every fire', async () => {
    const clock = manualClock(T0);
    const p = open(clock);
    await p.store.put(spec({ name: 'reread', devices: file, overlap: 'allow' }), T0);
    clock.set(T0 + 10 * MIN);
    await p.runner.tickOnce();
    writeFileSync(file, `${machineId(7)}\n`);
    clock.set(T0 + 20 * MIN);
    await p.runner.tickOnce();
    const counts = (await p.store.history('reread')).map((r) => r.counts?.queued);
    expect(counts).toEqual([1, 3]);
  });

  it('records failed-to-resolve with the reason when the device file is gone', async () => {
    const clock = manualClock(T0);
    const p = open(clock);
    await p.store.put(spec({ name: 'nofile', devices: `${file}.missing` }), T0);
    clock.set(T0 + 10 * MIN);
    await p.runner.tickOnce();
    const [entry] = await p.store.history('nofile');
    expect(entry).toMatchObject({ outcome: 'failed-to-resolve', campaignId: null });
    expect(entry?.reason).toMatch(/ids\.txt\.missing/);
    expect(await p.campaigns.listCampaigns()).toHaveLength(0);
    const [audited] = await p.audit.list();
    expect(audited).toMatchObject({
      action: 'schedule.fire',
      who: 'schedule:nofile',
      source: 'schedule',
      outcome: 'failed',
    });
    expect(audited?.detail).toMatch(/^failed-to-resolve: .*ids\.txt\.missing/);
  });

  it('fires nothing while paused and does not make up the paused span on resume', async () => {
    const clock = manualClock(T0);
    const p = open(clock);
    await p.store.put(spec({ name: 'paused', devices: file, overlap: 'allow' }), T0);
    await p.store.setPaused('paused', true, 'change freeze', T0);
    clock.set(T0 + 35 * MIN);
    await p.runner.tickOnce();
    expect(await p.store.history('paused')).toEqual([]);
    expect((await p.store.get('paused'))?.state.note).toBe('change freeze');
    await p.store.setPaused('paused', false, null, clock.now());
    clock.set(T0 + 40 * MIN);
    await p.runner.tickOnce();
    expect(await outcomes(p, 'paused')).toEqual([['00:40', 'started']]);
  });

  it('stops after max runs', async () => {
    const clock = manualClock(T0);
    const p = open(clock);
    await p.store.put(spec({ name: 'twice', devices: file, overlap: 'allow', maxRuns: 2 }), T0);
    for (let m = 10; m <= 50; m += 10) {
      clock.set(T0 + m * MIN);
      await p.runner.tickOnce();
    }
    expect(await outcomes(p, 'twice')).toEqual([
      ['00:10', 'started'],
      ['00:20', 'started'],
    ]);
  });

  it.each([2, 5])(
    'with %i processes ticking at once, each planned time is handled exactly once',
    async (processes) => {
      const clock = manualClock(T0);
      const all = Array.from({ length: processes }, () => open(clock, { lockTtlMs: 300 }));
      const [first] = all;
      if (!first) throw new Error('no process');
      await first.store.put(
        spec({ name: 'shared', devices: file, overlap: 'allow', cron: '* * * * *' }),
        T0,
      );
      for (let m = 1; m <= 12; m += 1) {
        clock.set(T0 + m * MIN + 1);
        await Promise.all(all.map((p) => p.runner.tickOnce()));
        await Promise.all(all.map((p) => p.runner.tickOnce()));
        if (m % 4 === 0) {
          // A process goes away without a word (its lease runs out); a new one joins.
          all.shift();
          await leaseRunsOut(first);
          all.push(open(clock, { lockTtlMs: 300 }));
        }
      }
      const history = await first.store.history('shared', 100);
      const planned = history.map((r) => r.planned);
      expect(new Set(planned).size).toBe(planned.length);
      expect(history.filter((r) => r.outcome === 'started')).toHaveLength(12);
      expect(await first.campaigns.listCampaigns()).toHaveLength(12);
    },
  );

  it('refuses a step from a holder whose lease ran out and was taken over (fencing)', async () => {
    const clock = manualClock(T0);
    const p = open(clock);
    await p.store.put(spec({ name: 'fenced', devices: file }), T0);
    const stale = createFiringLock(p.redis, prefix, 100);
    const staleToken = await stale.hold();
    await leaseRunsOut(p);
    const fresh = createFiringLock(p.redis, prefix, 10_000);
    const freshToken = await fresh.hold();
    expect(freshToken).not.toBeNull();
    // The lock's value is `<owner>:<token>` (lease-lock.ts): the token comes from a counter.
    const tokenOf = (value: string | null) => Number(value?.split(':').pop());
    expect(tokenOf(freshToken)).toBeGreaterThan(tokenOf(staleToken));
    const version = (await p.store.get('fenced'))?.state.version ?? -1;
    expect(
      await p.store.advance('fenced', { token: staleToken ?? '', version }, { cursor: '1' }),
    ).toBe('not-holder');
    expect(
      await p.store.advance('fenced', { token: freshToken ?? '', version }, { cursor: '1' }),
    ).toBe('done');
    expect(
      await p.store.advance('fenced', { token: freshToken ?? '', version }, { cursor: '2' }),
    ).toBe('moved');
    await fresh.release();
  });

  describe('a crash between claiming a planned time and creating its campaign', () => {
    /** A process whose firing step stops at the claim until `release` (or for ever). */
    function claimingProcess(clock: ReturnType<typeof manualClock>) {
      let release = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      let claimedWith: (pending: PendingFire) => void = () => {};
      const claimed = new Promise<PendingFire>((resolve) => (claimedWith = resolve));
      const p = open(clock, {
        lockTtlMs: 300,
        hooks: {
          afterClaim: (_name, pending) => {
            claimedWith(pending);
            return gate;
          },
        },
      });
      return { p, claimed, release };
    }

    it('leaves the claim with its campaign id, and the next holder runs it exactly once', async () => {
      const clock = manualClock(T0);
      const dying = claimingProcess(clock);
      await dying.p.store.put(spec({ name: 'crashed', devices: file, overlap: 'allow' }), T0);
      clock.set(T0 + 10 * MIN + 1);
      void dying.p.runner.tickOnce();
      const pending = await dying.claimed;
      dying.p.redis.disconnect(); // killed here: it never says another word
      const expectedId = scheduledCampaignId('crashed', T0 + 10 * MIN);
      expect(pending).toEqual({
        planned: T0 + 10 * MIN,
        actual: T0 + 10 * MIN + 1,
        campaignId: expectedId,
      });

      const next = open(clock, { lockTtlMs: 300 });
      const claimed = await next.store.get('crashed');
      expect(claimed?.state.pending).toEqual(pending);
      // `schedule show` and its JSON say a run is claimed and into which campaign it goes.
      expect(claimed && scheduleView(claimed, null).claimedRun).toEqual({
        planned: expect.objectContaining({ utc: '2026-01-01T00:10:00.000Z' }) as unknown,
        campaignId: expectedId,
      });
      expect(await next.campaigns.listCampaigns()).toEqual([]);
      expect(await next.store.history('crashed')).toEqual([]);
      await leaseRunsOut(next); // the dead holder's lease runs out
      const other = open(clock, { lockTtlMs: 300 });
      await Promise.all([next.runner.tickOnce(), other.runner.tickOnce()]);
      await Promise.all([next.runner.tickOnce(), other.runner.tickOnce()]);

      const [entry, ...more] = await next.store.history('crashed');
      expect(more).toEqual([]);
      expect(entry).toMatchObject({
        planned: T0 + 10 * MIN,
        actual: T0 + 10 * MIN + 1,
        outcome: 'started',
        campaignId: expectedId,
        counts: { queued: 3 },
      });
      expect(entry?.reason).toMatch(/completed by test after the claiming step stopped/);
      const campaigns = await next.campaigns.listCampaigns();
      expect(campaigns.map((c) => [c.id, c.total, c.schedule])).toEqual([
        [expectedId, 3, 'crashed'],
      ]);
      expect((await next.store.get('crashed'))?.state).toMatchObject({
        pending: null,
        runs: 1,
        lastCampaignId: expectedId,
      });
      expect(await next.store.fireCounts()).toMatchObject({ started: 1 });

      // The plan goes on from there: the next planned time is an ordinary run.
      clock.set(T0 + 20 * MIN);
      await Promise.all([next.runner.tickOnce(), other.runner.tickOnce()]);
      expect(await outcomes(next, 'crashed')).toEqual([
        ['00:10', 'started'],
        ['00:20', 'started'],
      ]);
    });

    it('a stalled holder that wakes up after another process completed its claim doubles nothing', async () => {
      const clock = manualClock(T0);
      const stalled = claimingProcess(clock);
      await stalled.p.store.put(spec({ name: 'raced', devices: file }), T0);
      clock.set(T0 + 10 * MIN);
      const stalledTick = stalled.p.runner.tickOnce();
      const pending = await stalled.claimed;
      await leaseRunsOut(stalled.p); // its lease runs out while it stalls
      const other = open(clock, { lockTtlMs: 300 });
      expect(await other.runner.tickOnce()).toBe(1);
      stalled.release(); // it goes on, believing the run is still its to start
      await stalledTick;

      const campaigns = await other.campaigns.listCampaigns();
      expect(campaigns.map((c) => [c.id, c.total])).toEqual([[pending.campaignId, 3]]);
      const devices = await other.campaigns.listDevices(pending.campaignId, { limit: 100 });
      expect(devices.devices.map((d) => d.machineId).sort()).toEqual(
        [1, 2, 3].map(machineId).sort(),
      );
      expect(await outcomes(other, 'raced')).toEqual([['00:10', 'started']]);
      expect((await other.store.get('raced'))?.state).toMatchObject({ pending: null, runs: 1 });
      expect(await other.store.fireCounts()).toMatchObject({ started: 1 });
    });

    it('completes a claimed run even when the schedule was paused after the claim', async () => {
      const clock = manualClock(T0);
      const dying = claimingProcess(clock);
      await dying.p.store.put(spec({ name: 'frozen', devices: file }), T0);
      clock.set(T0 + 10 * MIN);
      void dying.p.runner.tickOnce();
      const pending = await dying.claimed;
      dying.p.redis.disconnect();
      const next = open(clock, { lockTtlMs: 300 });
      await next.store.setPaused('frozen', true, 'change freeze', clock.now());
      await leaseRunsOut(next);
      await next.runner.tickOnce();
      expect(await outcomes(next, 'frozen')).toEqual([['00:10', 'started']]);
      expect((await next.campaigns.listCampaigns()).map((c) => c.id)).toEqual([pending.campaignId]);
      clock.set(T0 + 30 * MIN);
      await next.runner.tickOnce(); // paused: nothing more
      expect(await next.store.history('frozen')).toHaveLength(1);
    });
  });
});
