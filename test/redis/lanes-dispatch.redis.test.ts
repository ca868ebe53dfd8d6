import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Priority } from '../../src/campaigns/campaign.js';
import type { BudgetLane, LaneGrant } from '../../src/lanes/budget-lane.js';
import type { Lanes } from '../../src/lanes/lanes.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { testLanes } from './lane-fixture.js';
import { simClock, T0, type SimClock } from './limiter-fixtures.js';

const hexId = (i: number) => i.toString(16).padStart(40, '0');

let redis: Redis;
let prefix: string;
let clock: SimClock;

beforeEach(() => {
  redis = new Redis(testRedisUrl());
  prefix = uniquePrefix('lanes');
  clock = simClock();
});
afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

function lanesWith(options: Parameters<typeof testLanes>[2] = {}): Lanes {
  return testLanes(redis, prefix, { clock, ...options }).lanes;
}

async function push(
  lane: BudgetLane,
  id: string,
  priority: Priority,
  devices: number,
  offset = 0,
): Promise<void> {
  const ids = Array.from({ length: devices }, (_, i) => ({ machineId: hexId(offset + i) }));
  await lane.push({ id, priority, paused: false }, ids);
}

/** Dispatches until refused; each granted slot is settled at once (its reply came back). */
async function drain(
  lane: BudgetLane,
  max = 1_000,
): Promise<{ grants: LaneGrant[]; waitMs: number }> {
  const grants: LaneGrant[] = [];
  for (;;) {
    const result = await lane.dispatch();
    if (!result.grant) return { grants, waitMs: result.waitMs };
    grants.push(result.grant);
    await result.grant.permit.settle();
    await lane.finish(result.grant.campaignId, result.grant.machineId, { kind: 'done' });
    if (grants.length >= max) return { grants, waitMs: 0 };
  }
}

/** Adaptive settings of the probe tests: 2 calls in flight above the accepted level. */
const adaptive = {
  min: { share: 0.1 },
  holdMs: 500,
  holdMaxMs: 4_000,
  increaseEveryMs: 100,
  probeInflight: 2,
};

const campaignsOf = (grants: readonly LaneGrant[]) => grants.map((g) => g.campaignId);

describe('dispatch-n.lua: which device gets the next slot', () => {
  it('serves the highest class first, then the campaigns of a class in turn', async () => {
    const lane = lanesWith({ windows: [{ cap: 1_000, windowMs: 60_000 }] }).forTenant('default');
    await push(lane, 'c-bg0000000000', 'background', 2, 0);
    await push(lane, 'c-nA0000000000', 'normal', 3, 100);
    await push(lane, 'c-nB0000000000', 'normal', 1, 200);
    await push(lane, 'c-ur0000000000', 'urgent', 2, 300);
    const { grants, waitMs } = await drain(lane);
    expect(campaignsOf(grants)).toEqual([
      'c-ur0000000000',
      'c-ur0000000000',
      'c-nA0000000000',
      'c-nB0000000000',
      'c-nA0000000000',
      'c-nA0000000000',
      'c-bg0000000000',
      'c-bg0000000000',
    ]);
    // Within a campaign: the order the devices were added.
    expect(
      grants
        .slice(2)
        .filter((g) => g.campaignId === 'c-nA0000000000')
        .map((g) => g.machineId),
    ).toEqual([hexId(100), hexId(101), hexId(102)]);
    expect(waitMs).toBe(-1); // nothing waits at all
  });

  it('keeps the reserve free for urgent campaigns and says exactly when the next slot opens', async () => {
    const lane = lanesWith({
      windows: [{ cap: 10, windowMs: 1_000 }],
      reserve: [{ cap: 2, windowMs: 1_000 }],
    }).forTenant('default');
    await push(lane, 'c-normal000000', 'normal', 20);
    const first = await drain(lane);
    expect(first.grants).toHaveLength(8); // 10 - reserve 2
    expect(first.waitMs).toBe(1_000); // the first stamp (T0) leaves the window at T0 + 1000
    await push(lane, 'c-urgent000000', 'urgent', 5, 1_000);
    const urgent = await drain(lane);
    expect(campaignsOf(urgent.grants)).toEqual(['c-urgent000000', 'c-urgent000000']);
    expect(urgent.waitMs).toBe(1_000);
    clock.advance(1_000);
    const next = await drain(lane);
    // The window emptied: the urgent campaign's 3 left first, then normal up to the reserve.
    expect(campaignsOf(next.grants)).toEqual([
      ...Array<string>(3).fill('c-urgent000000'),
      ...Array<string>(5).fill('c-normal000000'),
    ]);
  });

  it('grants a slot that opens within the lookahead now, with its wait, and none further ahead', async () => {
    const lane = lanesWith({ windows: [{ cap: 2, windowMs: 1_000 }] }).forTenant('default');
    await push(lane, 'c-ahead0000000', 'normal', 5);
    expect((await drain(lane)).grants).toHaveLength(2); // stamped at T0, leave at T0 + 1000
    clock.advance(970);
    // 30 ms before the opening: outside a 20 ms lookahead, the wait to the opening is the answer.
    expect(await lane.dispatch(1, 20)).toEqual({ waitMs: 30 });
    clock.advance(15);
    const before = performance.now();
    const ahead = await lane.dispatch(3, 20);
    // 15 ms ahead: both slots that open at T0 + 1000 are granted now, each due in 15 ms; no third.
    expect(ahead.grants?.map((g) => g.machineId)).toEqual([hexId(2), hexId(3)]);
    for (const grant of ahead.grants ?? []) {
      expect(grant.notBefore).toBeGreaterThanOrEqual(before + 15);
    }
    // They are in flight from the grant (until their replies stamp them): a whole window away.
    expect(await lane.dispatch(1, 20)).toEqual({ waitMs: 1_000 });
  });

  it('makes a deferred device ready exactly at its due time, not earlier', async () => {
    const lane = lanesWith().forTenant('default');
    await push(lane, 'c-due000000000', 'normal', 1);
    const [grant] = (await drain(lane, 1)).grants;
    // Re-dispatch it: finish with a due time instead of done.
    await push(lane, 'c-due000000000', 'normal', 1, 1);
    const again = await lane.dispatch();
    await again.grant?.permit.settle();
    await lane.finish('c-due000000000', hexId(1), { kind: 'due', at: T0 + 7_321, attempt: false });
    expect(grant?.machineId).toBe(hexId(0));
    expect(await lane.dispatch()).toEqual({ waitMs: 7_321 });
    clock.advance(7_320);
    expect(await lane.dispatch()).toEqual({ waitMs: 1 });
    clock.advance(1);
    const due = await lane.dispatch();
    expect(due.grant).toMatchObject({
      campaignId: 'c-due000000000',
      machineId: hexId(1),
      tries: 0,
    });
  });

  it('gives back the device of a process that died with it after its lease, one attempt spent', async () => {
    const lane = lanesWith({ deviceLeaseMs: 5_000 }).forTenant('default');
    await push(lane, 'c-lease0000000', 'normal', 1);
    const taken = await lane.dispatch(); // ... and the process dies: no renew, no finish
    expect(taken.grant?.machineId).toBe(hexId(0));
    expect(await lane.dispatch()).toEqual({ waitMs: 5_000 });
    clock.advance(5_000);
    const back = await lane.dispatch();
    expect(back.grant).toMatchObject({ machineId: hexId(0), tries: 1 });
    // The dead process's late finish changes nothing: the device is someone else's now... once
    // it is, the new holder's finish ends it.
    expect(await lane.finish('c-lease0000000', hexId(0), { kind: 'done' })).toBe(true);
    expect(await lane.finish('c-lease0000000', hexId(0), { kind: 'done' })).toBe(false);
  });

  it('keeps a renewed device with its process', async () => {
    const lane = lanesWith({ deviceLeaseMs: 5_000 }).forTenant('default');
    await push(lane, 'c-renew0000000', 'normal', 1);
    await lane.dispatch();
    clock.advance(4_000);
    await lane.renew([`c-renew0000000.${hexId(0)}`]);
    clock.advance(4_000);
    // Without the renewal it would have come back at T0 + 5000; now at T0 + 9000.
    expect(await lane.dispatch()).toEqual({ waitMs: 1_000 });
  });

  it('skips a paused campaign and drops a cancelled one', async () => {
    const lane = lanesWith().forTenant('default');
    await push(lane, 'c-paused000000', 'normal', 2);
    await push(lane, 'c-gone00000000', 'normal', 2, 10);
    await push(lane, 'c-live00000000', 'normal', 1, 20);
    await lane.setCampaign('c-paused000000', 'pause');
    await lane.setCampaign('c-gone00000000', 'drop');
    expect(campaignsOf((await drain(lane)).grants)).toEqual(['c-live00000000']);
    await lane.setCampaign('c-paused000000', 'run');
    expect(campaignsOf((await drain(lane)).grants)).toEqual(['c-paused000000', 'c-paused000000']);
  });

  it("holds only the budget that was throttled: another tenant's budget keeps granting", async () => {
    const { lanes, limiters } = testLanes(redis, prefix, { clock, tenants: ['a', 'b'] });
    await push(lanes.forTenant('a'), 'c-tenantA00000', 'normal', 3);
    await push(lanes.forTenant('b'), 'c-tenantB00000', 'normal', 3);
    await limiters.get('a')?.throttle('scan', 30_000); // a 429 with Retry-After: 30
    expect(await lanes.forTenant('a').dispatch()).toEqual({ waitMs: 30_000 });
    expect((await drain(lanes.forTenant('b'))).grants).toHaveLength(3);
  });

  it('uses the effective cap of the caps hash when it is lower than the configured one', async () => {
    const lane = lanesWith({ windows: [{ cap: 10, windowMs: 1_000 }] }).forTenant('default');
    await redis.hset(lane.limiter.slotsOf('scan').keys.caps, '1000', '4');
    await push(lane, 'c-caps00000000', 'normal', 10);
    expect((await drain(lane)).grants).toHaveLength(4);
  });

  it('adaptive: probeInflight at a time above the level the server accepted, fresh or lowered', async () => {
    const windows = [{ cap: 10, windowMs: 1_000 }];
    const lane = lanesWith({ windows, adaptive }).forTenant('default');
    await push(lane, 'c-fresh0000000', 'normal', 30);
    /** Slots granted now while none of them replies. */
    const inFlightAtOnce = async () => {
      const grants: LaneGrant[] = [];
      for (let r = await lane.dispatch(); r.grant; r = await lane.dispatch()) grants.push(r.grant);
      for (const grant of grants) await grant.permit.release();
      return grants.length;
    };
    // A fresh budget has seen nothing accepted: the floor (10 % of 10: 1) goes as accepted,
    // so its first storm against a lower real cap (never below the floor) is at most
    // probeInflight calls.
    expect(await inFlightAtOnce()).toBe(3);
    // What a 429 leaves: the adaptive budget lowered the window's effective cap.
    await redis.hset(lane.limiter.slotsOf('scan').keys.caps, '1000', '8');
    expect(await inFlightAtOnce()).toBe(3);
  });

  it('adaptive: sends up to a level an earlier campaign verified at once, then probes', async () => {
    const windows = [{ cap: 10, windowMs: 1_000 }];
    const lane = lanesWith({ windows, adaptive }).forTenant('default');
    await push(lane, 'c-warm00000000', 'normal', 30);
    // What adapt-read-n.lua keeps after a campaign whose calls the server accepted, 6 in a window.
    await redis.hset(lane.limiter.slotsOf('scan').keys.caps, 'verified:1000', '6');
    const first = await lane.dispatch(20);
    // 6 at full speed and 2 probes above them (a fresh budget: 1 + 2); more only once
    // replies come back.
    expect(first.grants).toHaveLength(8);
    expect((await lane.dispatch(20)).grant).toBeUndefined();
  });
});

describe('dispatch-n.lua: grants ahead of the opening (lookahead)', () => {
  it('grants a slot that opens within the lookahead at a verified full window, with its wait', async () => {
    const lane = lanesWith({ windows: [{ cap: 10, windowMs: 1_000 }], adaptive }).forTenant(
      'default',
    );
    await push(lane, 'c-ahead0000000', 'normal', 30);
    // The server accepted the whole cap before: no probing up to it.
    await redis.hset(lane.limiter.slotsOf('scan').keys.caps, 'verified:1000', '10');
    const full = await drain(lane);
    expect(full.grants).toHaveLength(10);
    clock.advance(full.waitMs - 10);
    // The oldest stamp leaves in 10 ms: the window is full now, but not when this slot opens.
    const asked = performance.now();
    const ahead = await lane.dispatch(5, 20);
    expect(ahead.grants?.length).toBe(5);
    for (const grant of ahead.grants ?? [])
      expect((grant.notBefore ?? 0) - asked).toBeGreaterThan(9);
  });
});

describe('fairness within a class', () => {
  it('requests all of a 20-device campaign started 1 s after a 2,000-device one inside its first minute window', async () => {
    const lane = lanesWith({
      windows: [
        { cap: 100, windowMs: 60_000 },
        { cap: 1_500, windowMs: 3_600_000 },
      ],
      reserve: [
        { cap: 10, windowMs: 60_000 },
        { cap: 100, windowMs: 3_600_000 },
      ],
    }).forTenant('default');
    await push(lane, 'c-big000000000', 'normal', 2_000);
    const burst = await drain(lane);
    clock.advance(1_000);
    await push(lane, 'c-small0000000', 'normal', 20, 10_000);
    const smallDone: number[] = [];
    let waitMs = burst.waitMs;
    while (smallDone.length < 20 && clock.now() < T0 + 5 * 60_000) {
      clock.advance(Math.max(1, waitMs));
      const round = await drain(lane);
      for (const g of round.grants)
        if (g.campaignId === 'c-small0000000') smallDone.push(clock.now());
      waitMs = round.waitMs;
    }
    expect(smallDone).toHaveLength(20);
    expect(Math.max(...smallDone) - (T0 + 1_000)).toBeLessThanOrEqual(60_000);
  });
});
