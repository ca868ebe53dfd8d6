import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  adjustCaps,
  floorsFor,
  initialAdaptiveState,
  scaledReserve,
  type AdaptiveEvent,
  type AdaptiveParams,
  type AdaptiveState,
} from '../../../../src/limiter/adaptive/adjust-caps.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const params: AdaptiveParams = {
  windows: [
    { cap: 100, windowMs: MIN },
    { cap: 1500, windowMs: HOUR },
  ],
  floors: [10, 600],
  holdMs: MIN,
  holdMaxMs: 8 * MIN,
  increaseEveryMs: 5_000,
};
const fresh = initialAdaptiveState(params);
const T = 1_000_000;

const state = (patch: Partial<AdaptiveState>): AdaptiveState => ({ ...fresh, ...patch });
const throttled = (
  used: number[],
  grantedAt = T,
  windowMs: number | null = null,
): AdaptiveEvent => ({ kind: 'throttled', grantedAt, windowMs, used });
const successes = (used: number[]): AdaptiveEvent => ({ kind: 'successes', used });

interface Row {
  title: string;
  from: AdaptiveState;
  event: AdaptiveEvent;
  now: number;
  change: 'none' | 'decrease' | 'increase';
  caps: number[];
  holdMs?: number;
  params?: AdaptiveParams;
}

const rows: Row[] = [
  {
    title: 'a 429 at 61 calls in the minute lowers only the minute cap, to the 60 that fit',
    from: fresh,
    event: throttled([61, 61]),
    now: T + 5,
    change: 'decrease',
    caps: [60, 1500],
  },
  {
    title:
      'what the server accepted, when known and lower, is what fitted (storm 429s not counted)',
    from: fresh,
    event: { kind: 'throttled', grantedAt: T, windowMs: null, used: [64, 64], accepted: [60, 60] },
    now: T + 5,
    change: 'decrease',
    caps: [60, 1500],
  },
  {
    title: 'after a storm, the probe past the hold tries the level above what the server accepted',
    from: state({ caps: [60, 1500], ceilings: [61, null], lastDecreaseAt: T - 2 * MIN }),
    event: successes([60, 300]),
    now: T,
    change: 'increase',
    caps: [61, 1500],
  },
  {
    title: 'a decrease never takes more than half the cap in one step',
    from: fresh,
    event: throttled([20, 20]),
    now: T + 5,
    change: 'decrease',
    caps: [50, 1500],
  },
  {
    title: 'a decrease always lowers the cap by at least one',
    from: state({ caps: [60, 1500] }),
    event: throttled([70, 900]),
    now: T + 5,
    change: 'decrease',
    caps: [59, 1500],
  },
  {
    title: 'a decrease stops at the floor',
    from: state({ caps: [12, 1500] }),
    event: throttled([5, 5]),
    now: T + 5,
    change: 'decrease',
    caps: [10, 1500],
  },
  {
    title: 'a 429 at the floor changes no cap',
    from: state({ caps: [10, 1500] }),
    event: throttled([10, 10]),
    now: T + 5,
    change: 'none',
    caps: [10, 1500],
  },
  {
    title: 'a 429 naming the hour window lowers the hour, not the full minute',
    from: fresh,
    event: throttled([100, 1200], T, HOUR),
    now: T + 5,
    change: 'decrease',
    caps: [100, 1199],
  },
  {
    title: 'an unnamed 429 with both windows about as full lowers both',
    from: fresh,
    event: throttled([90, 1400]),
    now: T + 5,
    change: 'decrease',
    caps: [89, 1399],
  },
  {
    title: 'a 429 of a slot granted before the last decrease is part of that storm: ignored',
    from: state({ caps: [60, 1500], lastDecreaseAt: T + 10 }),
    event: throttled([61, 61], T + 9),
    now: T + 20,
    change: 'none',
    caps: [60, 1500],
  },
  {
    title: 'a 429 at the level that failed before doubles the hold',
    from: state({ caps: [61, 1500], ceilings: [61, null], lastDecreaseAt: T - 2 * MIN }),
    event: throttled([61, 300]),
    now: T + 5,
    change: 'decrease',
    caps: [60, 1500],
    holdMs: 2 * MIN,
  },
  {
    title: 'a 429 at another level resets the hold',
    from: state({ caps: [85, 1500], ceilings: [71, null], holdMs: 4 * MIN }),
    event: throttled([85, 300]),
    now: T + 5,
    change: 'decrease',
    caps: [84, 1500],
    holdMs: MIN,
  },
  {
    title: 'a 429 at a lower level than the last failure is a repeat too: the hold doubles',
    from: state({ caps: [77, 1500], ceilings: [79, null], holdMs: 2 * MIN }),
    event: throttled([71, 300]),
    now: T + 5,
    change: 'decrease',
    caps: [70, 1500],
    holdMs: 4 * MIN,
  },
  {
    title:
      'a failed probe of the failed level goes back to what fitted, whatever our late count says',
    from: state({ caps: [61, 1500], ceilings: [61, null], lastDecreaseAt: T - 2 * MIN }),
    event: throttled([58, 300]),
    now: T + 5,
    change: 'decrease',
    caps: [60, 1500],
    holdMs: 2 * MIN,
  },
  {
    title: 'in a shared room (it moved before) a failure keeps the base hold',
    from: state({ caps: [77, 1500], ceilings: [79, null], holdMs: 2 * MIN, shared: true }),
    event: throttled([71, 300]),
    now: T + 5,
    change: 'decrease',
    caps: [70, 1500],
    holdMs: MIN,
  },
  {
    title:
      'a level that failed is raised above what the server accepted since (a 429 counted too low)',
    from: state({ caps: [58, 1500], ceilings: [59, null], step: 4, lastDecreaseAt: T - 2 * MIN }),
    event: { kind: 'successes', used: [58, 300], accepted: [60, 0] },
    now: T,
    change: 'increase',
    // Up to one short of 61 at once; without the correction it would probe 59 by one unit.
    caps: [60, 1500],
  },
  {
    title: 'the hold never grows past holdMax',
    from: state({ caps: [61, 1500], ceilings: [61, null], holdMs: 8 * MIN }),
    event: throttled([61, 300]),
    now: T + 5,
    change: 'decrease',
    caps: [60, 1500],
    holdMs: 8 * MIN,
  },
  {
    title: 'a second decrease with no increase between: the room keeps shrinking, × 0.7',
    from: state({ caps: [99, 1500], ceilings: [100, null], lastDecreaseAt: T - MIN, unprobed: 1 }),
    event: throttled([99, 300]),
    now: T + 5,
    change: 'decrease',
    caps: [68, 1500],
    holdMs: MIN,
  },
  {
    title: 'a second decrease within the hold is the storm tail: one below what fitted',
    from: state({ caps: [96, 1500], ceilings: [97, null], lastDecreaseAt: T - 1_000, unprobed: 1 }),
    event: throttled([90, 300], T - 500),
    now: T,
    change: 'decrease',
    caps: [89, 1500],
  },
  {
    title: 'shrinking never takes more than half the cap in one step',
    from: state({ caps: [40, 1500], lastDecreaseAt: T - MIN, unprobed: 1 }),
    event: throttled([21, 300]),
    now: T + 5,
    change: 'decrease',
    caps: [20, 1500],
  },
  {
    title: 'a failed probe after an increase is no shrink: one below the level that failed',
    from: state({
      caps: [71, 1500],
      ceilings: [100, null],
      lastDecreaseAt: T - 2 * MIN,
      lastIncreaseAt: T - 5_000,
    }),
    event: throttled([71, 300]),
    now: T + 5,
    change: 'decrease',
    caps: [70, 1500],
  },
  {
    title: 'in a room that moved (shared), a repeated failure keeps the base hold',
    from: state({
      caps: [70, 1500],
      ceilings: [70, null],
      lastDecreaseAt: T - 2 * MIN,
      lastIncreaseAt: T - 5_000,
      holdMs: MIN,
      shared: true,
    }),
    event: throttled([70, 300]),
    now: T + 5,
    change: 'decrease',
    caps: [69, 1500],
    holdMs: MIN,
  },
  {
    title: 'successes at the configured caps change nothing',
    from: fresh,
    event: successes([100, 500]),
    now: T,
    change: 'none',
    caps: [100, 1500],
  },
  {
    title: 'successes within the hold change nothing',
    from: state({ caps: [60, 1500], lastDecreaseAt: T - MIN + 1 }),
    event: successes([60, 500]),
    now: T,
    change: 'none',
    caps: [60, 1500],
  },
  {
    title: 'after the hold a full window grows by one step',
    from: state({ caps: [60, 1500], lastDecreaseAt: T - MIN }),
    event: successes([60, 500]),
    now: T,
    change: 'increase',
    caps: [61, 1500],
  },
  {
    title: 'a window that is not in use does not grow',
    from: state({ caps: [60, 1500], lastDecreaseAt: T - MIN }),
    event: successes([30, 500]),
    now: T,
    change: 'none',
    caps: [60, 1500],
  },
  {
    title: 'increases wait increaseEvery after the last one',
    from: state({ caps: [61, 1500], lastDecreaseAt: T - MIN, lastIncreaseAt: T - 4_999, step: 2 }),
    event: successes([61, 500]),
    now: T,
    change: 'none',
    caps: [61, 1500],
  },
  {
    title: 'each increase doubles the next step',
    from: state({ caps: [77, 1500], lastDecreaseAt: T - MIN, lastIncreaseAt: T - 5_000, step: 8 }),
    event: successes([77, 500]),
    now: T,
    change: 'increase',
    caps: [85, 1500],
  },
  {
    title: 'below the level that failed, an increase stops one short of it',
    from: state({
      caps: [52, 1500],
      ceilings: [61, null],
      lastDecreaseAt: T - MIN,
      lastIncreaseAt: T - 5_000,
      step: 16,
    }),
    event: successes([52, 500]),
    now: T,
    change: 'increase',
    caps: [60, 1500],
  },
  {
    title: 'the level that failed is probed by one unit only',
    from: state({
      caps: [60, 1500],
      ceilings: [61, null],
      lastDecreaseAt: T - MIN,
      lastIncreaseAt: T - 5_000,
      step: 4,
    }),
    event: successes([60, 500]),
    now: T,
    change: 'increase',
    caps: [61, 1500],
  },
  {
    title: 'above the level that failed, the steps grow again',
    from: state({
      caps: [61, 1500],
      ceilings: [61, null],
      lastDecreaseAt: T - MIN,
      lastIncreaseAt: T - 5_000,
      step: 8,
    }),
    event: successes([61, 500]),
    now: T,
    change: 'increase',
    caps: [69, 1500],
  },
  {
    title: 'a window filled up to cap − reserve (normal campaigns only) counts as in use',
    from: state({ caps: [60, 1500], lastDecreaseAt: T - MIN }),
    event: successes([53, 500]),
    now: T,
    change: 'increase',
    caps: [61, 1500],
    params: { ...params, reserves: [10, 100] },
  },
  {
    title: 'below cap − reserve − one unit the window is not in use',
    from: state({ caps: [60, 1500], lastDecreaseAt: T - MIN }),
    event: successes([52, 500]),
    now: T,
    change: 'none',
    caps: [60, 1500],
    params: { ...params, reserves: [10, 100] },
  },
  {
    title: 'an increase stops at the configured cap',
    from: state({ caps: [90, 1200], lastDecreaseAt: T - MIN, lastIncreaseAt: T - 5_000, step: 16 }),
    event: successes([90, 1200]),
    now: T,
    change: 'increase',
    caps: [100, 1440],
  },
];

describe('adjustCaps', () => {
  it.each(rows)('$title', ({ from, event, now, change, caps, holdMs, params: p = params }) => {
    const decision = adjustCaps(p, from, event, now);
    expect(decision.change).toBe(change);
    expect(decision.state.caps).toEqual(caps);
    if (holdMs !== undefined) expect(decision.state.holdMs).toBe(holdMs);
  });

  it('remembers the level above what the server accepted as failed, not a count with calls in flight', () => {
    const storm: AdaptiveEvent = {
      kind: 'throttled',
      grantedAt: T,
      windowMs: null,
      used: [64, 64],
      accepted: [60, 60],
    };
    const lowered = adjustCaps(params, fresh, storm, T + 5).state;
    expect(lowered.caps[0]).toBe(60);
    expect(lowered.ceilings[0]).toBe(61);
    // Past the hold, the probe is one unit (one 429 if the server still says no), not three.
    const probe = adjustCaps(params, lowered, successes([60, 300]), T + 5 + MIN);
    expect(probe.state.caps[0]).toBe(61);
  });

  it('climbs past the level that failed from a step of 1 again, not with the steps of the climb', () => {
    let s = state({ caps: [58, 1500], ceilings: [59, null], step: 4, lastDecreaseAt: T - 2 * MIN });
    const caps: number[] = [];
    for (let i = 0; i < 4; i++) {
      s = adjustCaps(params, s, successes([s.caps[0] ?? 0, 300]), T + i * 5_000).state;
      caps.push(s.caps[0] ?? 0);
    }
    // 59 probes the failed level; above it +1, +2, +4 (a wrong guess costs that many 429s).
    expect(caps).toEqual([59, 60, 62, 66]);
  });

  it('records the reason of a decrease and keeps it through increases', () => {
    const lowered = adjustCaps(params, fresh, throttled([61, 61]), T);
    expect(lowered.state.reason).toBe(
      '429 on a granted slot (window not named): 1m window 100 → 60 (61 of ours in it)',
    );
    const raised = adjustCaps(params, lowered.state, successes([60, 61]), T + MIN);
    expect(raised.change).toBe('increase');
    expect(raised.state.reason).toBe(lowered.state.reason);
  });

  it('a storm of 429s lowers the cap once', () => {
    let current = fresh;
    let decreases = 0;
    // 8 calls granted together at T, their 429s reported one after another.
    for (let i = 0; i < 8; i++) {
      const decision = adjustCaps(params, current, throttled([61 + i, 61 + i], T), T + 10 + i);
      if (decision.change === 'decrease') decreases++;
      current = decision.state;
    }
    expect(decreases).toBe(1);
    expect(current.caps).toEqual([60, 1500]);
  });

  it('brings a stored state from an older config back into [floor, configured]', () => {
    const decision = adjustCaps(params, state({ caps: [400, 3] }), successes([0, 0]), T);
    expect(decision.state.caps).toEqual([100, 600]);
  });
});

describe('the rule over a consumer that takes a growing share, then stops', () => {
  it('backs off below the shared room in two decreases, then climbs back once it is free', () => {
    let current = fresh;
    // First 429 with the window full of ours; a minute later, refused again at the same level.
    current = adjustCaps(params, current, throttled([100, 100], T), T + 1).state;
    expect(current.caps[0]).toBe(99);
    current = adjustCaps(params, current, throttled([99, 200], T + MIN), T + MIN + 1).state;
    expect(current.caps[0]).toBe(68);
    expect(current.shared).toBe(true);
    // After the hold, the room is free again: steps of 1, 2, 4 … units every increaseEvery.
    const caps: number[] = [];
    for (let t = T + 2 * MIN + 1; caps.at(-1) !== 100; t += 5_000) {
      current = adjustCaps(params, current, successes([current.caps[0]!, 300]), t).state;
      caps.push(current.caps[0]!);
    }
    expect(caps).toEqual([69, 71, 75, 83, 98, 99, 100]);
    expect(current.shared).toBe(false);
  });
});

describe('scaledReserve', () => {
  it.each([
    { reserve: 10, cap: 100, configured: 100, scaled: 10 },
    { reserve: 10, cap: 60, configured: 100, scaled: 6 },
    { reserve: 10, cap: 15, configured: 100, scaled: 1 },
    { reserve: 0, cap: 60, configured: 100, scaled: 0 },
  ])(
    '$reserve of $configured under a cap of $cap keeps $scaled',
    ({ reserve, cap, configured, scaled }) => {
      expect(scaledReserve(reserve, cap, configured)).toBe(scaled);
    },
  );
});

describe('floorsFor', () => {
  it.each([
    { min: { cap: 10, windowMs: MIN }, floors: [10, 600] },
    { min: { cap: 10, windowMs: 600 }, floors: [100, 1500] },
    { min: { share: 0.1 }, floors: [10, 150] },
    { min: { cap: 1, windowMs: HOUR }, floors: [1, 1] },
  ])('$min gives $floors', ({ min, floors }) => {
    expect(floorsFor(params.windows, min)).toEqual(floors);
  });
});

const eventArb: fc.Arbitrary<{ event: AdaptiveEvent; dt: number }> = fc.record({
  dt: fc.integer({ min: 0, max: 10 * MIN }),
  event: fc.oneof(
    fc.record({
      kind: fc.constant('throttled' as const),
      grantedAt: fc.integer({ min: 0, max: 100 * HOUR }),
      windowMs: fc.constantFrom(null, MIN, HOUR, 5),
      used: fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 3000 })),
      accepted: fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 3000 })),
    }),
    fc.record({
      kind: fc.constant('successes' as const),
      used: fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 3000 })),
    }),
  ),
});

describe('adjustCaps under any sequence of events', () => {
  it('keeps every effective cap within [floor, configured]', () => {
    fc.assert(
      fc.property(
        fc.record({
          minute: fc.integer({ min: 1, max: 200 }),
          hour: fc.integer({ min: 1, max: 3000 }),
          floorShare: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
        fc.array(eventArb, { maxLength: 200 }),
        ({ minute, hour, floorShare }, events) => {
          const windows = [
            { cap: minute, windowMs: MIN },
            { cap: hour, windowMs: HOUR },
          ];
          const p: AdaptiveParams = {
            ...params,
            windows,
            floors: floorsFor(windows, { share: floorShare }),
          };
          let current = initialAdaptiveState(p);
          let now = 0;
          for (const { event, dt } of events) {
            now += dt;
            current = adjustCaps(p, current, event, now).state;
            current.caps.forEach((cap, w) => {
              expect(Number.isInteger(cap)).toBe(true);
              expect(cap).toBeGreaterThanOrEqual(p.floors[w]!);
              expect(cap).toBeLessThanOrEqual(windows[w]!.cap);
            });
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
