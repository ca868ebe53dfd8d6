import { describe, expect, it } from 'vitest';
import { buildSimulator } from '../../../src/simulator/build-simulator.js';
import { withSimulator } from '../../helpers/with-simulator.js';
import { errorCode, get, healthyIds, scan } from './sim-kit.js';

const NO_SPECIALS = {
  busy: 0,
  offline: 0,
  inactive: 0,
  duplicate: 0,
  unsupportedOs: 0,
  excluded: 0,
};

describe('faults and lost replies', () => {
  it('answers a 5xx before anything happens, yet counts the call against the budget', async () => {
    const sim = await buildSimulator({
      fleet: 5,
      fleetMix: NO_SPECIALS,
      faultRate: 1,
      rateLimits: [{ cap: 2, windowMs: 60_000 }],
    });
    try {
      const id = healthyIds(sim)[0]!;
      const statuses = [(await scan(sim, id)).statusCode, (await scan(sim, id)).statusCode];
      for (const s of statuses) expect([500, 503]).toContain(s);
      expect((await scan(sim, id)).statusCode).toBe(429);
      expect(sim.actions()).toHaveLength(0);
      expect(sim.stats()).toMatchObject({ faults: 2, throttled: 1, actionsCreated: 0 });
    } finally {
      await sim.close();
    }
  });

  it('repeats the same faults for the same seed', async () => {
    const outcomes = async (): Promise<number[]> => {
      const sim = await buildSimulator({ fleet: 3, faultRate: 0.3, seed: 42 });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 40; i++)
          statuses.push((await get(sim, '/api/machines?$top=1')).statusCode);
        return statuses;
      } finally {
        await sim.close();
      }
    };
    const first = await outcomes();
    expect(first.filter((s) => s >= 500).length).toBeGreaterThan(0);
    expect(first.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(await outcomes()).toEqual(first);
  });

  it('creates the action but turns the reply into a 502 when a reply is lost that way', async () => {
    const sim = await buildSimulator({
      fleet: 5,
      fleetMix: NO_SPECIALS,
      lostRate: 1,
      lostMode: '502',
    });
    try {
      const id = healthyIds(sim)[0]!;
      const r = await scan(sim, id);
      expect(r.statusCode).toBe(502);
      expect(sim.actions()).toHaveLength(1);
      expect(sim.actions()[0]!.machineId).toBe(id);
      expect(sim.calls().at(-1)).toMatchObject({
        status: 502,
        lost: true,
        actionId: sim.actions()[0]!.id,
      });
      expect(sim.stats().lostReplies).toBe(1);
    } finally {
      await sim.close();
    }
  });

  it('creates the action but destroys the socket when a reply is lost that way', async () => {
    await withSimulator(
      { fleet: 5, fleetMix: NO_SPECIALS, lostRate: 1, lostMode: 'destroy' },
      async ({ url, sim }) => {
        const id = healthyIds(sim)[0]!;
        const attempt = fetch(`${url}/api/machines/${id}/runAntiVirusScan`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${sim.issueToken()}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ Comment: 'lost', ScanType: 'Quick' }),
        });
        await expect(attempt).rejects.toThrow();
        expect(sim.actions()).toHaveLength(1);
        expect(sim.calls().at(-1)).toMatchObject({
          status: 0,
          lost: true,
          actionId: sim.actions()[0]!.id,
        });
        expect(sim.stats()).toMatchObject({ lostReplies: 1, actionsCreated: 1 });
      },
    );
  });

  it('never loses 401 or 429 replies, and counts no fault for them', async () => {
    const sim = await buildSimulator({
      fleet: 3,
      lostRate: 1,
      faultRate: 1,
      rateLimits: [{ cap: 1, windowMs: 60_000 }],
    });
    try {
      expect((await sim.app.inject({ method: 'GET', url: '/api/machines' })).statusCode).toBe(401);
      expect([500, 503]).toContain((await get(sim, '/api/machines')).statusCode);
      const throttled = await get(sim, '/api/machines');
      expect(throttled.statusCode).toBe(429);
      expect(errorCode(throttled)).toBe('429');
      expect(sim.stats()).toMatchObject({ lostReplies: 0, faults: 1 });
    } finally {
      await sim.close();
    }
  });

  it('delays replies by the configured latency when only the reply leg is delayed', async () => {
    const sim = await buildSimulator({ fleet: 3, latencyMs: [30, 40], latencyLegs: 'reply' });
    try {
      await get(sim, '/api/machines?$top=1');
      expect(sim.calls().at(-1)!.durationMs).toBeGreaterThanOrEqual(29);
    } finally {
      await sim.close();
    }
  });

  it('splits latency between the request leg, which delays the counted arrival, and the reply', async () => {
    const sim = await buildSimulator({ fleet: 3, latencyMs: [40, 40] });
    try {
      const legs: { requestLeg: number; total: number }[] = [];
      for (let i = 0; i < 12; i++) {
        const sent = sim.now();
        await get(sim, '/api/machines?$top=1');
        const call = sim.calls().at(-1)!;
        legs.push({ requestLeg: call.t - sent, total: sim.now() - sent });
      }
      for (const { total } of legs) expect(total).toBeGreaterThanOrEqual(39);
      // Some calls arrive (and are counted) well after they were sent.
      expect(legs.filter((l) => l.requestLeg >= 10).length).toBeGreaterThan(0);
      expect(legs.filter((l) => l.requestLeg < 30).length).toBeGreaterThan(0);
    } finally {
      await sim.close();
    }
  });
});
