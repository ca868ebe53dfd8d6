import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { buildSimulator } from '../../../src/simulator/build-simulator.js';
import { parseConsumerSchedule } from '../../../src/simulator/other-consumer.js';
import { fakeClock, healthyIds, scan } from './sim-kit.js';

describe('parseConsumerSchedule', () => {
  it.each([
    ['30/1m:8m,0/1m', [{ perMinute: 30, forMs: 480_000 }, { perMinute: 0 }]],
    ['30/1m', [{ perMinute: 30 }]],
    ['5/1s:30s, 60/1m', [{ perMinute: 300, forMs: 30_000 }, { perMinute: 60 }]],
  ])('reads %s', (text, steps) => {
    expect(parseConsumerSchedule(text)).toEqual(steps);
  });

  it.each(['', 'x', '30/1m,0/1m', '30/1m:soon', '30/0s'])('refuses %j', (text) => {
    expect(parseConsumerSchedule(text)).toBeUndefined();
  });
});

describe('an invisible other consumer', () => {
  it('spends the same sliding window as the client without showing in the log or the stats', async () => {
    const clock = fakeClock();
    const sim = await buildSimulator({
      fleet: 150,
      fleetMix: { busy: 0, offline: 0, inactive: 0, duplicate: 0, unsupportedOs: 0 },
      rateLimits: [{ cap: 100, windowMs: 60_000 }],
      otherConsumer: {
        schedule: [{ perMinute: 6_000, forMs: 500 }, { perMinute: 0 }],
        startsAt: 'first-call',
      },
      now: clock.now,
    });
    try {
      const ids = healthyIds(sim);
      expect(sim.otherConsumer()).toEqual({ counted: 0, throttled: 0 });
      expect((await scan(sim, ids[0]!)).statusCode).toBe(201);
      clock.advance(1_000);
      // Its calls are due on the simulator's clock; a real timer tick catches them up.
      await sleep(60);
      expect(sim.otherConsumer()).toEqual({ counted: 50, throttled: 0 });
      const statuses: number[] = [];
      for (let i = 1; i <= 50; i++) statuses.push((await scan(sim, ids[i]!)).statusCode);
      expect(statuses.filter((s) => s === 201)).toHaveLength(49);
      expect(statuses.at(-1)).toBe(429);
      expect(sim.calls()).toHaveLength(51);
      expect(sim.stats().calls).toBe(51);
    } finally {
      await sim.close();
    }
  });

  it('refuses a schedule step with a negative rate, naming it', async () => {
    await expect(
      buildSimulator({ otherConsumer: { schedule: [{ perMinute: -1 }] } }),
    ).rejects.toThrow('`otherConsumer.schedule[0].perMinute` must be a number ≥ 0');
  });
});
