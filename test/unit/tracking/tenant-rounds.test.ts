import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Campaign } from '../../../src/campaigns/campaign.js';
import type { ActionTracker, RoundResult } from '../../../src/tracking/action-tracker.js';
import type { CampaignLifecycle } from '../../../src/tracking/lifecycle-store.js';
import { startActionTracker } from '../../../src/tracking/start-action-tracker.js';

const log = pino({ level: 'silent' });

const campaign = (id: string, tenant: string) => ({ id, tenant }) as Campaign;

const lifecycleOf = (settledAt: number | null): CampaignLifecycle => ({
  settledAt,
  trackingEndedAt: null,
  openAtEnd: null,
  lastTrackedAt: null,
  verifiedAt: null,
  proof: null,
  findings: null,
  cancels: { cancelled: 0, 'already-final': 0, refused: 0 },
});

const result = (): RoundResult => ({
  ran: true,
  campaigns: 1,
  listed: 0,
  changed: 0,
  settled: [],
  ended: [],
  fencedOut: false,
  startedAt: 0,
  endedAt: 0,
});

/** A tracker that counts its rounds; `hang` makes every round wait until `resume()`. */
function fakeTracker(hang = false) {
  let resume: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    resume = resolve;
  });
  const tracker = {
    rounds: 0,
    released: 0,
    runRound: vi.fn(async () => {
      tracker.rounds += 1;
      if (hang) await gate;
      return result();
    }),
    release: vi.fn(() => {
      tracker.released += 1;
      return Promise.resolve();
    }),
  };
  return {
    tracker,
    resume: () => {
      resume();
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('tracker rounds per tenant', () => {
  it('runs a round only for tenants with campaigns still tracked, and a hung or unbuildable tenant delays no other', async () => {
    const slow = fakeTracker(true);
    const fast = fakeTracker();
    const done = fakeTracker();
    const built: string[] = [];
    const running = startActionTracker(
      {
        store: {
          listCampaigns: () =>
            Promise.resolve([
              campaign('c-slow', 'slow'),
              campaign('c-fast', 'fast'),
              campaign('c-done', 'done'),
              campaign('c-gone', 'removed-from-config'),
            ]),
        },
        lifecycle: {
          get: (id: string) => Promise.resolve(lifecycleOf(id === 'c-done' ? 1 : null)),
        },
        trackerFor: (tenant: string): ActionTracker => {
          built.push(tenant);
          if (tenant === 'slow') return slow.tracker;
          if (tenant === 'fast') return fast.tracker;
          if (tenant === 'done') return done.tracker;
          throw new Error(`Unknown tenant "${tenant}"`);
        },
        log,
      },
      1_000,
    );
    await vi.advanceTimersByTimeAsync(5_000);
    // Five ticks: the fast tenant had five rounds while the slow one's first never ended.
    expect(fast.tracker.rounds).toBe(5);
    expect(slow.tracker.rounds).toBe(1);
    // A settled tenant gets no round (and no client); an unknown one is retried, never blocks.
    expect(done.tracker.rounds).toBe(0);
    expect(built.filter((t) => t === 'done')).toEqual([]);
    expect(built.filter((t) => t === 'slow')).toEqual(['slow']);
    expect(built.filter((t) => t === 'removed-from-config')).toHaveLength(5);

    slow.resume();
    const stopping = running.stop();
    await vi.runAllTimersAsync();
    await stopping;
    expect(slow.tracker.released).toBe(1);
    expect(fast.tracker.released).toBe(1);
  });
});
