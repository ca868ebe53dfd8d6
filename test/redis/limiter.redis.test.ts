import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createScanLimiter, type ScanLimiter } from '../../src/limiter/scan-limiter.js';
import type { Redis } from '../../src/shared/redis.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import {
  connect,
  simClock,
  simLimiter,
  T0,
  type SimClock,
  type SimLimiterOptions,
} from './limiter-fixtures.js';

let redisA: Redis;
let redisB: Redis;
let prefix: string;
let clock: SimClock;

beforeAll(() => {
  [redisA, redisB] = connect(2) as [Redis, Redis];
});
afterAll(() => {
  redisA.disconnect();
  redisB.disconnect();
});
afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
});

/** Two limiters on two connections: two processes sharing one budget. */
function twoProcesses(options: SimLimiterOptions): [ScanLimiter, ScanLimiter] {
  prefix = uniquePrefix('limiter');
  clock = simClock();
  return [simLimiter(redisA, prefix, clock, options), simLimiter(redisB, prefix, clock, options)];
}

async function grant(limiter: ScanLimiter) {
  const result = await limiter.tryAcquire('scan');
  if (!result.permit) throw new Error(`expected a slot, was told to wait ${result.waitMs} ms`);
  return result.permit;
}

async function waitOf(limiter: ScanLimiter): Promise<number | undefined> {
  return (await limiter.tryAcquire('scan')).waitMs;
}

describe('sliding windows', () => {
  it('grants up to the cap, then says exactly when the next slot frees', async () => {
    const [a, b] = twoProcesses({ windows: [{ cap: 3, windowMs: 1000 }], guardMs: 10 });
    const permits = [await grant(a), await grant(b), await grant(a)];
    clock.advance(50);
    for (const permit of permits) await permit.settle();
    clock.advance(50);
    expect(await waitOf(b)).toBe(50 + 1010 - 100);
    clock.set(T0 + 50 + 1010 - 1);
    expect(await waitOf(a)).toBe(1);
    clock.advance(1);
    expect((await grant(b)).grantedAt).toBe(T0 + 1060);
  });

  it('counts calls in flight from the moment they are granted', async () => {
    const [a, b] = twoProcesses({ windows: [{ cap: 2, windowMs: 1000 }], guardMs: 5 });
    await grant(a);
    await grant(b);
    clock.advance(5000);
    // Still in flight: they could settle now, so the earliest they can leave is a full span away.
    expect(await waitOf(a)).toBe(1005);
  });

  it('re-stamps a settled slot with the time its reply came back', async () => {
    const [a, b] = twoProcesses({ windows: [{ cap: 1, windowMs: 1000 }] });
    const permit = await grant(a);
    clock.advance(400);
    await permit.settle();
    expect(permit.settledAt).toBe(T0 + 400);
    clock.set(T0 + 1000);
    expect(await waitOf(b)).toBe(400);
    clock.set(T0 + 1400);
    await grant(b);
  });

  it('dates the stamp back to the reply when told how long ago it came', async () => {
    const [a, b] = twoProcesses({ windows: [{ cap: 1, windowMs: 1000 }] });
    const permit = await grant(a);
    clock.advance(400);
    await permit.settle(150.7); // reply at T0 + 249.3: whole ms, the later side
    expect(permit.settledAt).toBe(T0 + 250);
    clock.set(T0 + 1000);
    expect(await waitOf(b)).toBe(250);
  });

  it('never dates a stamp before the grant, nor after now', async () => {
    const [a] = twoProcesses({ windows: [{ cap: 2, windowMs: 1000 }] });
    const early = await grant(a);
    const late = await grant(a);
    clock.advance(400);
    await early.settle(10_000);
    await late.settle(-50);
    expect(early.settledAt).toBe(early.grantedAt);
    expect(late.settledAt).toBe(T0 + 400);
  });

  it('enforces every window at once', async () => {
    const [a, b] = twoProcesses({
      windows: [
        { cap: 2, windowMs: 100 },
        { cap: 3, windowMs: 1000 },
      ],
    });
    for (const limiter of [a, b]) await (await grant(limiter)).settle();
    expect(await waitOf(a)).toBe(100);
    clock.advance(100);
    await (await grant(b)).settle();
    clock.advance(100);
    // The short window has room again, the long one not until the first call is 1000 ms old.
    expect(await waitOf(a)).toBe(800);
  });
});

describe('budget scope', () => {
  it('keeps a budget per endpoint family by default', async () => {
    const [a, b] = twoProcesses({ windows: [{ cap: 2, windowMs: 1000 }] });
    await grant(a);
    await grant(b);
    expect(await waitOf(a)).toBeGreaterThan(0);
    expect((await b.tryAcquire('machineActions')).permit).toBeDefined();
  });

  it('makes every family spend from one budget when shared', async () => {
    const [a, b] = twoProcesses({ windows: [{ cap: 2, windowMs: 1000 }], budgetScope: 'shared' });
    await grant(a);
    expect((await b.tryAcquire('machineActions')).permit).toBeDefined();
    expect((await a.tryAcquire('machines')).waitMs).toBe(1000);
    expect(await waitOf(b)).toBe(1000);
    const usage = await a.usage();
    expect(usage.map((budget) => budget.windows[0]?.used)).toEqual([2, 2, 2, 2]);
  });
});

describe('permits', () => {
  it('gives a released slot back at once', async () => {
    const [a, b] = twoProcesses({ windows: [{ cap: 1, windowMs: 1000 }] });
    const permit = await grant(a);
    await permit.release();
    expect(permit.state).toBe('released');
    await grant(b);
  });

  it('ends a permit once: a second settle or a later release changes nothing', async () => {
    const [a, b] = twoProcesses({ windows: [{ cap: 1, windowMs: 1000 }] });
    const permit = await grant(a);
    clock.advance(100);
    await permit.settle();
    clock.advance(100);
    await permit.settle();
    await permit.release();
    expect(permit.state).toBe('settled');
    expect(permit.settledAt).toBe(T0 + 100);
    expect(await waitOf(b)).toBe(900);
  });

  it('counts a slot whose holder never came back as replied when its lease ran out', async () => {
    const [a, b] = twoProcesses({ windows: [{ cap: 1, windowMs: 1000 }], leaseMs: 300 });
    await grant(a); // the holder crashes: neither settle nor release
    clock.set(T0 + 300);
    expect(await waitOf(b)).toBe(1000);
    clock.set(T0 + 1299);
    expect(await waitOf(b)).toBe(1);
    clock.set(T0 + 1300);
    await grant(b);
  });

  it('settles a slot whose lease ran out with its true, later reply time', async () => {
    const [a, b] = twoProcesses({ windows: [{ cap: 1, windowMs: 1000 }], leaseMs: 300 });
    const slow = await grant(a);
    clock.set(T0 + 500);
    expect(await waitOf(b)).toBe(800); // moved: counts as replied at T0 + 300
    await slow.settle();
    expect(await waitOf(b)).toBe(1000);
  });
});

describe('throttle', () => {
  it('pauses every process sharing the budget, and only that family', async () => {
    const [a, b] = twoProcesses({ windows: [{ cap: 100, windowMs: 1000 }] });
    await a.throttle('scan', 500);
    expect(await waitOf(b)).toBe(500);
    expect((await b.tryAcquire('machines')).permit).toBeDefined();
    clock.advance(500);
    await grant(b);
  });

  it('never shortens a longer pause, and lengthens a shorter one', async () => {
    const [a, b] = twoProcesses({ windows: [{ cap: 100, windowMs: 1000 }] });
    await a.throttle('scan', 800);
    await b.throttle('scan', 100);
    expect(await waitOf(a)).toBe(800);
    await b.throttle('scan', 2000);
    expect(await waitOf(a)).toBe(2000);
  });

  it('uses the default pause when the 429 named none', async () => {
    const [a] = twoProcesses({ windows: [{ cap: 100, windowMs: 1000 }], throttleDefaultMs: 700 });
    await a.throttle('scan', Number.NaN);
    expect(await waitOf(a)).toBe(700);
  });
});

describe('acquire', () => {
  it('sleeps exactly until the next slot frees, through the injected clock', async () => {
    const [a, b] = twoProcesses({ windows: [{ cap: 1, windowMs: 1000 }], guardMs: 20 });
    await (await grant(a)).settle();
    const permit = await b.acquire('scan');
    expect(permit.grantedAt).toBe(T0 + 1020);
    expect(clock.sleeps).toEqual([1020]);
  });

  it('stops waiting when its signal aborts', async () => {
    const [a, b] = twoProcesses({ windows: [{ cap: 1, windowMs: 1000 }] });
    await grant(a);
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    await expect(b.acquire('scan', controller.signal)).rejects.toThrow('shutting down');
    expect(await waitOf(b)).toBe(1000);
  });
});

describe('usage', () => {
  it('reports used slots per window and the pause, for every family by default', async () => {
    const [a, b] = twoProcesses({
      windows: [
        { cap: 5, windowMs: 100 },
        { cap: 20, windowMs: 1000 },
      ],
    });
    await (await grant(a)).settle();
    await grant(b); // in flight
    clock.advance(150);
    await a.throttle('scan', 250);
    const all = await b.usage();
    expect(all.map((usage) => usage.family)).toEqual([
      'scan',
      'machineActions',
      'cancel',
      'machines',
    ]);
    expect(all[0]).toEqual({
      family: 'scan',
      windows: [
        { cap: 5, windowMs: 100, used: 1 },
        { cap: 20, windowMs: 1000, used: 2 },
      ],
      pausedUntil: T0 + 400,
    });
    expect(await b.usage('machines')).toEqual([
      {
        family: 'machines',
        windows: [
          { cap: 5, windowMs: 100, used: 0 },
          { cap: 20, windowMs: 1000, used: 0 },
        ],
        pausedUntil: null,
      },
    ]);
  });
});

describe('on Redis time', () => {
  it('stamps slots with Redis TIME and lets idle keys expire', async () => {
    prefix = uniquePrefix('limiter');
    const limiter = createScanLimiter({
      redis: redisA,
      prefix,
      budgetId: 'commercial:tenant:app',
      windows: [{ cap: 10, windowMs: 600 }],
      guardMs: 5,
      throttleDefaultMs: 1000,
      leaseMs: 2000,
    });
    const before = await redisA.time();
    const permit = await grant(limiter);
    await permit.settle();
    await limiter.throttle('scan', 300);
    const after = await redisA.time();
    const ms = (time: number[]) => time[0]! * 1000 + Math.floor(time[1]! / 1000);
    expect(permit.grantedAt).toBeGreaterThanOrEqual(ms(before));
    expect(permit.settledAt).toBeLessThanOrEqual(ms(after));
    const keys = (await redisA.keys(`${prefix}:*`)).sort();
    expect(keys).toEqual([
      `${prefix}:budget:{commercial:tenant:app:scan}:pause`,
      `${prefix}:budget:{commercial:tenant:app:scan}:w600`,
    ]);
    for (const key of keys) {
      const ttl = await redisA.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(605);
    }
  });

  it("keeps a crashed holder's in-flight slot as long as it can count, and no longer", async () => {
    prefix = uniquePrefix('limiter');
    const limiter = createScanLimiter({
      redis: redisA,
      prefix,
      budgetId: 'commercial:tenant:app',
      windows: [
        { cap: 10, windowMs: 600 },
        { cap: 20, windowMs: 900 },
      ],
      guardMs: 5,
      throttleDefaultMs: 1000,
      leaseMs: 2000,
    });
    await grant(limiter); // the holder crashes: neither settle nor release
    const ttl = await redisA.pttl(`${prefix}:budget:{commercial:tenant:app:scan}:inflight`);
    // It counts until grant + lease + the longest span (900 + 5 ms guard); the read came later.
    expect(ttl).toBeGreaterThan(2000);
    expect(ttl).toBeLessThanOrEqual(2000 + 905);
  });

  it('loads its scripts again after Redis forgot them', async () => {
    const [a] = twoProcesses({ windows: [{ cap: 10, windowMs: 600 }] });
    await grant(a);
    await redisA.script('FLUSH');
    await grant(a);
  });

  it('refuses options that cannot work, naming the field', () => {
    prefix = uniquePrefix('limiter');
    const base = {
      redis: redisA,
      prefix,
      windows: [{ cap: 1, windowMs: 1 }],
      guardMs: 0,
      throttleDefaultMs: 1,
    };
    expect(() => createScanLimiter({ ...base, budgetId: 'a:{b}:c' })).toThrow(/budgetId/);
    expect(() => createScanLimiter({ ...base, budgetId: 'a', guardMs: -1 })).toThrow(/guardMs/);
    expect(() => createScanLimiter({ ...base, budgetId: 'a', leaseMs: 0 })).toThrow(/leaseMs/);
  });
});
