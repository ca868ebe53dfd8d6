import { describe, expect, it } from 'vitest';
import { DefenderError } from '../../src/defender/errors.js';
import { withSimulator } from '../helpers/with-simulator.js';
import { defenderOn, recordingGate } from './fidelity-kit.js';

async function failure(promise: Promise<unknown>): Promise<DefenderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DefenderError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('contract: throttling answers as the real API gives them', () => {
  it('quirk 429-body: code "429" and the hour window named, throttled on the status, its long Retry-After honoured', async () => {
    await withSimulator(
      {
        fleet: 5,
        fleetMix: { busy: 0, offline: 0, inactive: 0, unsupportedOs: 0 },
        rateLimits: [
          { cap: 100, windowMs: 60_000 },
          { cap: 3, windowMs: 3_600_000 },
        ],
      },
      async ({ url, sim }) => {
        const gate = recordingGate();
        const api = defenderOn(sim, url, gate);
        const list = async () => {
          for await (const m of api.listMachines()) return m;
          return undefined;
        };
        for (let i = 0; i < 3; i++) await list();
        const error = await failure(list());
        api.close();
        expect(error).toMatchObject({ status: 429, code: '429', retry: 'throttled' });
        const last = sim.calls().at(-1);
        expect(last).toMatchObject({ status: 429, code: '429' });
        // The hour window tripped: its Retry-After runs to the first call's hour, not a minute.
        expect(error.retryAfterMs).toBeGreaterThan(3_500_000);
        expect(gate.pauses).toEqual([error.retryAfterMs]);
      },
    );
  });

  it('quirk 429-message: the message names the window that tripped, minute or hour', async () => {
    await withSimulator(
      { fleet: 2, rateLimits: [{ cap: 1, windowMs: 60_000 }] },
      async ({ url, sim }) => {
        const token = sim.issueToken();
        const get = () =>
          fetch(`${url}/api/machines`, { headers: { authorization: `Bearer ${token}` } });
        await get();
        const reply = await get();
        expect(reply.status).toBe(429);
        expect(await reply.json()).toMatchObject({
          error: {
            code: '429',
            message: 'API calls quota exceeded! maximum allowed 1 per 00:01:00',
            target: expect.any(String) as unknown,
          },
        });
        expect(Number(reply.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
      },
    );
  });
});
