import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BudgetLane } from '../../src/lanes/budget-lane.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { testLanes } from './lane-fixture.js';
import { simClock, T0, type SimClock } from './limiter-fixtures.js';

const hexId = (i: number) => i.toString(16).padStart(40, '0');
const FAULT = { reason: 'credentials_rejected', message: 'Wrong secret. Fix it.' } as const;
const LEASE = 2_000;

let redis: Redis;
let prefix: string;
let clock: SimClock;
let lanes: ReturnType<typeof testLanes>['lanes'];

beforeEach(() => {
  redis = new Redis(testRedisUrl());
  prefix = uniquePrefix('breaker');
  clock = simClock();
  ({ lanes } = testLanes(redis, prefix, {
    clock,
    tenants: ['a', 'b'],
    deviceLeaseMs: LEASE,
    breaker: { probeMinMs: 100, probeMaxMs: 800 },
  }));
});
afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

async function withDevices(lane: BudgetLane, n: number): Promise<void> {
  const devices = Array.from({ length: n }, (_, i) => ({ machineId: hexId(i) }));
  await lane.push({ id: 'c-abcdefabcdef', priority: 'normal', paused: false }, devices);
}

describe('budget breaker in dispatch-n', () => {
  it('grants nothing until the probe time, then one probe turn that it claims for a device lease', async () => {
    const lane = lanes.forTenant('a');
    await withDevices(lane, 5);
    expect(await lane.breaker.trip(FAULT, false)).toMatchObject({
      kind: 'blocked',
      state: { reason: 'credentials_rejected', since: T0, probeAt: T0 + 100, failures: 0 },
    });
    expect(await lane.dispatch(4)).toEqual({ waitMs: 100 });
    clock.advance(100);
    const probe = await lane.dispatch(4);
    expect(probe.grants).toHaveLength(1);
    expect(probe.grant?.probe).toBe(true);
    // Claimed: no second probe while the first runs.
    expect(await lane.dispatch(4)).toEqual({ waitMs: LEASE });
    expect((await lane.breaker.read())?.probeAt).toBe(T0 + 100 + LEASE);
  });

  it('backs a failed probe off by doubling up to probeMax, and logs a change only once', async () => {
    const lane = lanes.forTenant('a');
    await lane.breaker.trip(FAULT, false);
    // A turn granted before the block that meets the same fault changes nothing.
    expect(await lane.breaker.trip(FAULT, false)).toEqual({ kind: 'none' });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      expect(await lane.breaker.trip(FAULT, true)).toEqual({ kind: 'none' });
      delays.push(((await lane.breaker.read())?.probeAt ?? 0) - T0);
    }
    expect(delays).toEqual([200, 400, 800, 800, 800]);
    const other = await lane.breaker.trip(
      { reason: 'entra_unreachable', message: 'No answer. Wait.' },
      true,
    );
    expect(other).toMatchObject({ kind: 'blocked', state: { reason: 'entra_unreachable' } });
  });

  it('resumes full dispatch once the probe is accepted, and wakes the other processes', async () => {
    const lane = lanes.forTenant('a');
    await withDevices(lane, 5);
    await lane.breaker.trip(FAULT, false);
    const subscriber = redis.duplicate();
    const wakes: string[] = [];
    subscriber.on('message', (_channel: string, tag: string) => wakes.push(tag));
    await subscriber.subscribe(`${prefix}:lanes:wake`);
    try {
      expect(await lane.breaker.clear()).toMatchObject({
        kind: 'unblocked',
        previous: { reason: 'credentials_rejected' },
      });
      expect(await lane.breaker.clear()).toEqual({ kind: 'none' });
      const after = await lane.dispatch(4);
      expect(after.grants).toHaveLength(4);
      expect(after.grants?.every((g) => !g.probe)).toBe(true);
      await redis.ping();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(wakes).toEqual([lane.tag]);
    } finally {
      subscriber.disconnect();
    }
  });

  it('hands the probe to the next dispatch at once when the probe turn made no call', async () => {
    const lane = lanes.forTenant('a');
    await withDevices(lane, 5);
    await lane.breaker.trip(FAULT, false);
    clock.advance(100);
    expect((await lane.dispatch()).grant?.probe).toBe(true);
    await lane.breaker.release();
    expect((await lane.dispatch()).grant?.probe).toBe(true);
  });

  it('blocks one budget only: another tenant keeps its full grants', async () => {
    const a = lanes.forTenant('a');
    const b = lanes.forTenant('b');
    await withDevices(a, 5);
    await withDevices(b, 5);
    await a.breaker.trip(FAULT, false);
    expect((await a.dispatch(4)).grants).toBeUndefined();
    expect((await b.dispatch(4)).grants).toHaveLength(4);
    expect(await b.breaker.read()).toBeNull();
  });
});
