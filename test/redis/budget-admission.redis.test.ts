import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RateWindow } from '../../src/config/duration.js';
import { createBudgetLane } from '../../src/lanes/budget-lane.js';
import { laneKeys, wakeChannel } from '../../src/lanes/lane-keys.js';
import { budgetKeys } from '../../src/limiter/budget-keys.js';
import { createScanLimiter } from '../../src/limiter/scan-limiter.js';
import type { Redis } from '../../src/shared/redis.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { connect, simClock, T0 } from './limiter-fixtures.js';

/**
 * Issue 26: one admission rule (src/lua/includes/budget-admission.lua) for every family. The
 * same budget state is fed to every entry point that grants a slot: acquire-n.lua (look-ups,
 * cancels, hunting, through `tryAcquire`) and dispatch-n.lua (scans, through a lane, for an
 * urgent campaign and for a normal one without reserve); each must grant, or refuse with the
 * same wait, and leave the budget the same. The breaker is part of the rule: a blocked budget
 * grants nothing before its probe time, then one probe, claimed, from every entry point.
 */
const BUDGET = 'commercial:tenant:app';
const LEASE_MS = 10_000;

interface WindowState {
  cap: number;
  windowMs: number;
  /** The effective cap in the caps hash (adaptive budget), or null. */
  effective: number | null;
  verified: number | null;
  good: number | null;
  /** Calls per window kept for urgent campaigns (the urgent one may use them). */
  reserve: number;
}

interface BudgetState {
  windows: [WindowState, WindowState];
  /** Ages (ms before now) of slots settled in every window log. */
  settled: number[];
  /** Ages of slots in flight (older than the lease: abandoned). */
  inflight: number[];
  /** Pause end relative to now (<= 0: over), or null for none. */
  pause: number | null;
  adaptive: boolean;
  probeInflight: number;
  guardMs: number;
  /** The breaker's probe time relative to now (<= 0: the probe is due), or null: not blocked. */
  breaker: number | null;
}

const windowArb = (windowMs: number, maxCap: number) =>
  fc
    .record({
      cap: fc.integer({ min: 1, max: maxCap }),
      effective: fc.option(fc.integer({ min: 0, max: maxCap + 2 }), { nil: null }),
      verified: fc.option(fc.integer({ min: 0, max: maxCap }), { nil: null }),
      good: fc.option(fc.integer({ min: 0, max: maxCap }), { nil: null }),
      reserve: fc.integer({ min: 0, max: 3 }), // below the cap, as limits.reserve must be
    })
    .map((w) => ({ ...w, windowMs, reserve: Math.min(w.reserve, w.cap - 1) }));

const stateArb: fc.Arbitrary<BudgetState> = fc.record({
  windows: fc.tuple(windowArb(1_000, 8), windowArb(5_000, 20)),
  settled: fc.array(fc.integer({ min: 0, max: 8_000 }), { maxLength: 10 }),
  inflight: fc.array(fc.integer({ min: 0, max: 15_000 }), { maxLength: 4 }),
  pause: fc.option(fc.integer({ min: -3_000, max: 2_000 }), { nil: null, freq: 2 }),
  adaptive: fc.boolean(),
  probeInflight: fc.integer({ min: 1, max: 4 }),
  guardMs: fc.integer({ min: 0, max: 30 }),
  breaker: fc.option(fc.integer({ min: -2_000, max: 2_000 }), { nil: null, freq: 2 }),
});

let redis: Redis;
const root = uniquePrefix('admission');
let run = 0;

beforeAll(() => {
  [redis] = connect(1) as [Redis];
});
afterAll(async () => {
  await cleanupPrefix(testRedisUrl(), root);
  redis.disconnect();
});

/** The budget's breaker hash, as the lanes keep it. */
const breakerKey = (prefix: string, state: Pick<BudgetState, 'windows'>) =>
  laneKeys(prefix, budgetKeys(prefix, BUDGET, 'scan', state.windows).tag).breaker;

function limiterFor(prefix: string, state: BudgetState, clock = simClock(T0)) {
  const windows: RateWindow[] = state.windows.map(({ cap, windowMs }) => ({ cap, windowMs }));
  return createScanLimiter({
    redis,
    prefix,
    budgetId: BUDGET,
    windows,
    guardMs: state.guardMs,
    throttleDefaultMs: 1_000,
    leaseMs: LEASE_MS,
    clock,
    time: 'clock',
    log: pino({ level: 'silent' }),
    breaker: {
      key: breakerKey(prefix, state),
      channel: wakeChannel(prefix),
      tag: budgetKeys(prefix, BUDGET, 'scan', state.windows).tag,
    },
    ...(state.adaptive
      ? {
          adaptive: {
            min: { cap: 1, windowMs: 1_000 },
            holdMs: 500,
            holdMaxMs: 4_000,
            increaseEveryMs: 100,
            probeInflight: state.probeInflight,
          },
        }
      : {}),
  });
}

/** Writes the state under `prefix`, as processes of the budget would have left it. */
async function writeState(prefix: string, state: BudgetState): Promise<void> {
  const keys = budgetKeys(prefix, BUDGET, 'scan', state.windows);
  const pipeline = redis.pipeline();
  state.settled.forEach((age, i) => {
    for (const key of keys.windows) pipeline.zadd(key, T0 - age, `s${i}`);
  });
  state.inflight.forEach((age, i) => pipeline.zadd(keys.inflight, T0 - age, `f${i}`));
  if (state.pause !== null) pipeline.set(keys.pause, String(T0 + state.pause));
  for (const w of state.windows) {
    if (w.effective !== null) pipeline.hset(keys.caps, String(w.windowMs), w.effective);
    if (w.verified !== null) pipeline.hset(keys.caps, `verified:${w.windowMs}`, w.verified);
    if (w.good !== null) pipeline.hset(keys.good, String(w.windowMs), w.good);
  }
  if (state.breaker !== null) {
    pipeline.hset(breakerKey(prefix, state), {
      reason: 'credentials_rejected',
      message: 'rejected',
      since: T0 - 60_000,
      probeAt: T0 + state.breaker,
      failures: 1,
    });
  }
  await pipeline.exec();
}

/**
 * What a grant step left: slots in flight, stamps per window log, and the breaker: `claimed`
 * (its probe taken: a probe time ahead, each entry point claiming for its own lease), `due`,
 * or `open` (not blocked).
 */
async function budgetAfter(prefix: string, state: BudgetState): Promise<(number | string)[]> {
  const keys = budgetKeys(prefix, BUDGET, 'scan', state.windows);
  const counts = await Promise.all([keys.inflight, ...keys.windows].map((key) => redis.zcard(key)));
  const probeAt = await redis.hget(breakerKey(prefix, state), 'probeAt');
  const breaker = probeAt === null ? 'open' : Number(probeAt) > T0 ? 'claimed' : 'due';
  return [...counts, breaker];
}

type Answer = { granted: true; at: number } | { granted: false; waitMs: number };

async function viaAcquire(state: BudgetState): Promise<[Answer, (number | string)[]]> {
  const prefix = `${root}-${run}-acquire`;
  await writeState(prefix, state);
  const result = await limiterFor(prefix, state).tryAcquire('scan');
  const answer: Answer = result.permit
    ? { granted: true, at: result.permit.grantedAt }
    : { granted: false, waitMs: result.waitMs };
  return [answer, await budgetAfter(prefix, state)];
}

/** A lane over the state written under `prefix`, with one campaign of one ready device. */
async function laneWith(
  prefix: string,
  state: BudgetState,
  priority: 'urgent' | 'normal',
  reserve: readonly RateWindow[],
) {
  await writeState(prefix, state);
  const lane = createBudgetLane({
    redis,
    prefix,
    budgetId: BUDGET,
    limiter: limiterFor(prefix, state),
    reserve,
    deviceLeaseMs: 30_000,
  });
  await lane.push({ id: 'c-1', priority, paused: false }, [{ machineId: 'm-1' }]);
  return lane;
}

async function viaDispatch(
  state: BudgetState,
  priority: 'urgent' | 'normal',
): Promise<[Answer, (number | string)[]]> {
  const prefix = `${root}-${run}-dispatch-${priority}`;
  // The normal campaign sees no reserve, so it may use what the urgent one may.
  const reserve =
    priority === 'urgent'
      ? state.windows.map((w) => ({ cap: w.reserve, windowMs: w.windowMs }))
      : [];
  const result = await (await laneWith(prefix, state, priority, reserve)).dispatch();
  const answer: Answer = result.grant
    ? { granted: true, at: result.grant.permit.grantedAt }
    : { granted: false, waitMs: result.waitMs };
  return [answer, await budgetAfter(prefix, state)];
}

describe('the admission rule (one include for every family)', () => {
  it('grants, or refuses with the same wait, from every entry point for the same state', async () => {
    let granted = 0;
    let refused = 0;
    let probes = 0;
    let blocked = 0;
    await fc.assert(
      fc.asyncProperty(stateArb, async (state) => {
        run += 1;
        const [acquired, acquiredAfter] = await viaAcquire(state);
        const [urgent, urgentAfter] = await viaDispatch(state, 'urgent');
        const [normal, normalAfter] = await viaDispatch(state, 'normal');
        expect(urgent).toEqual(acquired);
        expect(normal).toEqual(acquired);
        expect(urgentAfter).toEqual(acquiredAfter);
        expect(normalAfter).toEqual(acquiredAfter);
        if (acquired.granted) granted += 1;
        else refused += 1;
        if (state.breaker !== null && state.breaker > 0) blocked += 1;
        if (state.breaker !== null && acquired.granted) {
          probes += 1;
          expect(acquiredAfter.at(-1)).toBe('claimed');
        }
      }),
      { numRuns: 150 },
    );
    // The states must exercise every answer, or the comparison says little.
    expect(granted).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(10);
    expect(blocked).toBeGreaterThan(5);
    expect(probes).toBeGreaterThan(3);
  }, 120_000);

  it('keeps the reserve for urgent campaigns only: a normal one is refused where acquire is not', async () => {
    run += 1;
    const state: BudgetState = {
      windows: [
        { cap: 4, windowMs: 1_000, effective: null, verified: null, good: null, reserve: 2 },
        { cap: 10, windowMs: 5_000, effective: null, verified: null, good: null, reserve: 0 },
      ],
      settled: [100, 200],
      inflight: [],
      pause: null,
      adaptive: false,
      probeInflight: 1,
      guardMs: 0,
      breaker: null,
    };
    const [acquired] = await viaAcquire(state);
    expect(acquired).toEqual({ granted: true, at: T0 });
    const lane = await laneWith(`${root}-${run}-reserve`, state, 'normal', [
      { cap: 2, windowMs: 1_000 },
    ]);
    // Two stamps and a reserve of 2 of 4: the oldest stamp (200 ms ago) must leave first.
    expect(await lane.dispatch()).toEqual({ waitMs: 800 });
  });

  describe("the breaker for callers outside the lanes (the tracker's look-ups)", () => {
    const open: BudgetState = {
      windows: [
        { cap: 10, windowMs: 1_000, effective: null, verified: null, good: null, reserve: 0 },
        { cap: 50, windowMs: 5_000, effective: null, verified: null, good: null, reserve: 0 },
      ],
      settled: [],
      inflight: [],
      pause: null,
      adaptive: false,
      probeInflight: 1,
      guardMs: 0,
      breaker: null,
    };

    it('makes acquire wait for the probe time, then take the probe, in its own family budget', async () => {
      run += 1;
      const prefix = `${root}-${run}-wait`;
      const state = { ...open, breaker: 700 };
      await writeState(prefix, state);
      const clock = simClock(T0);
      const limiter = limiterFor(prefix, state, clock);
      // A tracker's look-up: its own family's budget, the lane's breaker.
      const permit = await limiter.acquire('machineActions');
      expect(clock.sleeps).toEqual([700]);
      expect(permit.grantedAt).toBe(T0 + 700);
      expect(await redis.hget(breakerKey(prefix, state), 'probeAt')).toBe(
        String(T0 + 700 + LEASE_MS),
      );
      // The probe is claimed: the next caller waits for the claim to run out, taking no slot.
      expect(await limiter.tryAcquire('machineActions')).toEqual({
        waitMs: LEASE_MS,
        blocked: true,
      });
      const keys = budgetKeys(prefix, BUDGET, 'machineActions', state.windows);
      expect(await redis.zcard(keys.inflight)).toBe(1);
      await permit.release();
    });

    it('unblocks the budget, and wakes the lanes, when the probe is answered', async () => {
      run += 1;
      const prefix = `${root}-${run}-clear`;
      const state = { ...open, breaker: 0 };
      await writeState(prefix, state);
      const limiter = limiterFor(prefix, state);
      const first = await limiter.tryAcquire('machineActions');
      if (!first.permit) throw new Error('the due probe was not granted');
      // Refused: a 401 says nothing good of the tenant's access, so the block stays, claimed.
      await first.permit.settle();
      await limiter.observe('machineActions', first.permit, 401);
      expect(await redis.hget(breakerKey(prefix, state), 'probeAt')).toBe(String(T0 + LEASE_MS));

      await redis.hset(breakerKey(prefix, state), 'probeAt', T0);
      const second = await limiter.tryAcquire('machineActions');
      if (!second.permit) throw new Error('the due probe was not granted');
      const woken: string[] = [];
      const listener = redis.duplicate();
      await listener.subscribe(wakeChannel(prefix));
      listener.on('message', (_channel: string, message: string) => woken.push(message));
      await second.permit.settle();
      await limiter.observe('machineActions', second.permit, 404);
      expect(await redis.exists(breakerKey(prefix, state))).toBe(0);
      const tag = budgetKeys(prefix, BUDGET, 'scan', state.windows).tag;
      await expect.poll(() => woken, { timeout: 10_000 }).toEqual([tag]);
      listener.disconnect();
      // Open again: no probe, no claim.
      const third = await limiter.tryAcquire('machineActions');
      expect(third.permit).toBeDefined();
      await third.permit?.release();
    });
  });
});
