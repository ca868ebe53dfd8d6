import { describe, expect, it } from 'vitest';
import { buildSimulator, maxInAnyWindow } from '../../../src/simulator/build-simulator.js';
import { withSimulator } from '../../helpers/with-simulator.js';
import { errorCode, fakeClock, get, healthyIds, scan } from './sim-kit.js';

describe('throttling on arrival in sliding windows', () => {
  it('answers exactly one 429 to 101 calls inside one minute, and passes again once the window slid', async () => {
    const clock = fakeClock();
    const sim = await buildSimulator({
      fleet: 150,
      fleetMix: { busy: 0, offline: 0, inactive: 0, duplicate: 0, unsupportedOs: 0 },
      now: clock.now,
    });
    try {
      const ids = healthyIds(sim);
      const statuses: number[] = [];
      for (let i = 0; i < 101; i++) {
        statuses.push((await scan(sim, ids[i]!)).statusCode);
        clock.advance(100);
      }
      expect(statuses.filter((s) => s === 429)).toHaveLength(1);
      expect(statuses[100]).toBe(429);
      const throttled = await scan(sim, ids[101]!);
      expect(throttled.statusCode).toBe(429);
      // The published body: code "429", the minute window named.
      expect(errorCode(throttled)).toBe('429');
      expect(throttled.json<{ error: { message: string } }>().error.message).toBe(
        'API calls quota exceeded! maximum allowed 100 per 00:01:00',
      );
      const retryAfter = Number(throttled.headers['retry-after']);
      expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
      // The first call arrived at 0 ms; at 60 001 ms it has left the window, and only it.
      clock.advance(60_001 - 10_100);
      expect((await scan(sim, ids[102]!)).statusCode).toBe(201);
      expect((await scan(sim, ids[103]!)).statusCode).toBe(429);
      expect(sim.stats().throttled).toBe(3);
      expect(sim.stats().actionsCreated).toBe(101);
    } finally {
      await sim.close();
    }
  });

  it('counts in a sliding window, not in fixed minutes', async () => {
    const clock = fakeClock();
    const sim = await buildSimulator({ fleet: 5, now: clock.now });
    try {
      const list = async (): Promise<number> => (await get(sim, '/api/machines?$top=1')).statusCode;
      clock.advance(50_000);
      for (let i = 0; i < 100; i++) expect(await list()).toBe(200);
      // A fixed window would reset at 60 000 ms; the sliding one still holds all 100 calls.
      clock.advance(20_000);
      expect(await list()).toBe(429);
      clock.advance(40_001);
      expect(await list()).toBe(200);
    } finally {
      await sim.close();
    }
  });

  it('keeps the hourly window too, and gives Retry-After until the oldest blocking call leaves', async () => {
    const clock = fakeClock();
    const sim = await buildSimulator({
      fleet: 5,
      now: clock.now,
      rateLimits: [
        { cap: 3, windowMs: 1_000 },
        { cap: 5, windowMs: 10_000 },
      ],
    });
    try {
      const list = async () => get(sim, '/api/machines?$top=1');
      for (let i = 0; i < 5; i++) {
        expect((await list()).statusCode).toBe(200);
        clock.advance(1_001);
      }
      const refused = await list();
      expect(refused.statusCode).toBe(429);
      // The first call (t = 0) leaves the 10 s window at 10 001 ms; now is 5 005 ms.
      expect(refused.headers['retry-after']).toBe('5');
      clock.advance(4_996);
      expect((await list()).statusCode).toBe(200);
    } finally {
      await sim.close();
    }
  });

  it('counts nothing for a throttled call: rejected calls never extend the wait', async () => {
    const clock = fakeClock();
    const sim = await buildSimulator({
      fleet: 5,
      now: clock.now,
      rateLimits: [{ cap: 2, windowMs: 1_000 }],
    });
    try {
      const list = async () => (await get(sim, '/api/machines?$top=1')).statusCode;
      expect([await list(), await list()]).toEqual([200, 200]);
      for (let i = 0; i < 50; i++) {
        clock.advance(10);
        expect(await list()).toBe(429);
      }
      clock.advance(501);
      expect(await list()).toBe(200);
    } finally {
      await sim.close();
    }
  });

  it('keeps one budget per endpoint family', async () => {
    const clock = fakeClock();
    const sim = await buildSimulator({
      fleet: 5,
      now: clock.now,
      rateLimits: [{ cap: 1, windowMs: 60_000 }],
    });
    try {
      const [id] = healthyIds(sim);
      expect((await get(sim, '/api/machines')).statusCode).toBe(200);
      expect((await get(sim, '/api/machines')).statusCode).toBe(429);
      expect((await get(sim, '/api/machineactions')).statusCode).toBe(200);
      expect((await scan(sim, id!)).statusCode).toBe(201);
      expect(sim.stats().byFamily).toEqual({ scan: 1, machineActions: 1, cancel: 0, machines: 2 });
    } finally {
      await sim.close();
    }
  });

  it('shares one budget among every endpoint family with budgetScope shared', async () => {
    const clock = fakeClock();
    const sim = await buildSimulator({
      fleet: 5,
      now: clock.now,
      rateLimits: [{ cap: 2, windowMs: 60_000 }],
      budgetScope: 'shared',
    });
    try {
      const [id] = healthyIds(sim);
      expect((await get(sim, '/api/machines')).statusCode).toBe(200);
      expect((await get(sim, '/api/machineactions')).statusCode).toBe(200);
      const throttled = await scan(sim, id!);
      expect(throttled.statusCode).toBe(429);
      expect(throttled.headers['retry-after']).toBe('61');
      clock.advance(60_001);
      expect((await scan(sim, id!)).statusCode).toBe(201);
    } finally {
      await sim.close();
    }
  });

  it('throttles real concurrent HTTP calls by arrival, scaled by timeScale', async () => {
    // timeScale 10: the minute window is 6 s, far longer than 101 local calls take even on a busy host.
    await withSimulator({ fleet: 5, timeScale: 10 }, async ({ url, sim }) => {
      const headers = { authorization: `Bearer ${sim.issueToken()}` };
      const responses = await Promise.all(
        Array.from({ length: 101 }, () => fetch(`${url}/api/machines?$top=1`, { headers })),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 429)).toHaveLength(1);
      expect(statuses.filter((s) => s === 200)).toHaveLength(100);
      const arrivals = sim
        .calls()
        .filter((c) => c.status === 200)
        .map((c) => c.t);
      expect(maxInAnyWindow(arrivals, 6_000)).toBe(100);
    });
  });
});

describe('maxInAnyWindow', () => {
  it('finds the busiest window, both ends included', () => {
    expect(maxInAnyWindow([], 1000)).toBe(0);
    expect(maxInAnyWindow([0, 1000, 2000], 1000)).toBe(2);
    expect(maxInAnyWindow([0, 999, 1001, 1002, 5000], 1000)).toBe(3);
    expect(maxInAnyWindow([3, 1, 2], 10)).toBe(3);
  });
});
