import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RateWindow } from '../../src/config/duration.js';
import type { ScanLimiter, ScanPermit } from '../../src/limiter/scan-limiter.js';
import type { Redis } from '../../src/shared/redis.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { maxOverlappingInAnyWindow, type CallInterval } from '../helpers/window-count.js';
import { connect, simClock, simLimiter, T0 } from './limiter-fixtures.js';

/**
 * Random call patterns from several clients (each its own limiter on its own connection, like
 * processes), on simulated time passed to the scripts, checked against the test's own log of
 * grants, settles, releases and pauses: never against the limiter's counters.
 */

const CLIENTS = 3;
let connections: Redis[];
let prefix: string;

beforeAll(() => {
  connections = connect(CLIENTS);
});
afterAll(() => {
  for (const redis of connections) redis.disconnect();
});
afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
});

interface Budget {
  windows: RateWindow[];
  guardMs: number;
  leaseMs: number;
}

interface Held {
  permit: ScanPermit;
  abandoned: boolean;
}

const budgetArb: fc.Arbitrary<Budget> = fc.record({
  windows: fc.uniqueArray(
    fc.record({
      cap: fc.integer({ min: 1, max: 5 }),
      windowMs: fc.integer({ min: 100, max: 2000 }),
    }),
    { minLength: 1, maxLength: 3, selector: (window) => window.windowMs },
  ),
  guardMs: fc.integer({ min: 0, max: 20 }),
  leaseMs: fc.integer({ min: 150, max: 6000 }),
});

const stepArb = fc.record({
  advanceMs: fc.oneof(
    fc.constant(0),
    fc.integer({ min: 1, max: 40 }),
    fc.integer({ min: 40, max: 1500 }),
  ),
  client: fc.nat({ max: CLIENTS - 1 }),
  action: fc.constantFrom(
    'acquire',
    'acquire',
    'acquire',
    'settle',
    'settle',
    'release',
    'abandon',
    'throttle',
  ),
  pick: fc.nat(),
  /** After a refusal, come back exactly when told (and 1 ms before). */
  retryWhenTold: fc.boolean(),
  throttleMs: fc.integer({ min: 1, max: 800 }),
});
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

/** What the rules allow, from the test's own log: the wait before a call at `now` may go. */
function modelWait(
  budget: Budget,
  held: readonly Held[],
  done: readonly CallInterval[],
  pausedUntil: number,
  now: number,
) {
  let wait = Math.max(0, pausedUntil - now);
  let inFlight = 0;
  const stamps = done.map((call) => call.end);
  for (const { permit } of held) {
    // Unsettled past its lease: counts as replied at grant + lease.
    if (now - permit.grantedAt >= budget.leaseMs) stamps.push(permit.grantedAt + budget.leaseMs);
    else inFlight++;
  }
  for (const { cap, windowMs } of budget.windows) {
    const span = windowMs + budget.guardMs;
    const inside = stamps.filter((stamp) => stamp > now - span).sort((a, b) => a - b);
    const rank = inside.length + inFlight - cap;
    if (rank < 0) continue;
    const leaves = rank < inside.length ? inside[rank]! + span : now + span;
    wait = Math.max(wait, leaves - now);
  }
  return { wait, inFlight };
}

/** Calls as the server may have counted them: from the grant to the reply (or grant + lease). */
function intervals(
  budget: Budget,
  held: readonly Held[],
  done: readonly CallInterval[],
  now: number,
): CallInterval[] {
  const open = held.map(({ permit, abandoned }) => ({
    start: permit.grantedAt,
    end: abandoned
      ? permit.grantedAt + budget.leaseMs
      : Math.min(now, permit.grantedAt + budget.leaseMs),
  }));
  return [...done, ...open];
}

function worstWindow(budget: Budget, calls: readonly CallInterval[]): number {
  return Math.max(
    ...budget.windows.map(
      (window) => maxOverlappingInAnyWindow(calls, window.windowMs + budget.guardMs) - window.cap,
    ),
  );
}

async function runPattern(budget: Budget, steps: readonly Step[]): Promise<void> {
  const clock = simClock();
  const runPrefix = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  const clients: ScanLimiter[] = connections.map((redis) =>
    simLimiter(redis, runPrefix, clock, budget),
  );
  const held: Held[] = [];
  const done: CallInterval[] = [];
  let pausedUntil = 0;

  const attempt = async (client: ScanLimiter) => {
    const now = clock.now();
    // Abandoned permits count too: the model treats every unsettled slot alike, as the script does.
    const expected = modelWait(budget, held, done, pausedUntil, now);
    const result = await client.tryAcquire('scan');
    if (result.permit) {
      expect(expected.wait, `granted at ${now - T0} though the rules say wait`).toBe(0);
      expect(result.permit.grantedAt).toBe(now);
      held.push({ permit: result.permit, abandoned: false });
      return undefined;
    }
    expect(result.waitMs, `refused at ${now - T0}`).toBe(expected.wait);
    if (pausedUntil <= now) {
      // No budget wasted: one more call now would break a window for some arrival times.
      const withOneMore = [...intervals(budget, held, done, now), { start: now, end: now }];
      expect(worstWindow(budget, withOneMore)).toBeGreaterThan(0);
    }
    return { waitMs: result.waitMs, inFlight: expected.inFlight };
  };

  for (const step of steps) {
    clock.advance(step.advanceMs);
    const client = clients[step.client]!;
    const open = held.filter((h) => !h.abandoned);
    const picked = open.length > 0 ? open[step.pick % open.length] : undefined;
    if (step.action === 'acquire') {
      const refused = await attempt(client);
      if (refused && step.retryWhenTold) {
        const toldAt = clock.now();
        if (refused.waitMs > 1) {
          clock.set(toldAt + refused.waitMs - 1);
          expect(await attempt(client), 'served before the time it was told').toBeDefined();
        }
        clock.set(toldAt + refused.waitMs);
        const again = await attempt(client);
        // Exact when nothing was in flight; otherwise in-flight calls had to settle first.
        if (refused.inFlight === 0) expect(again, 'not served when told').toBeUndefined();
      }
    } else if (step.action === 'throttle') {
      await client.throttle('scan', step.throttleMs);
      pausedUntil = Math.max(pausedUntil, clock.now() + step.throttleMs);
    } else if (picked) {
      const index = held.indexOf(picked);
      if (step.action === 'abandon') picked.abandoned = true;
      if (step.action === 'release') {
        await picked.permit.release();
        held.splice(index, 1);
      }
      // The contract: a call replies within its lease; past it, the holder counts as crashed.
      if (step.action === 'settle' && clock.now() - picked.permit.grantedAt >= budget.leaseMs) {
        picked.abandoned = true;
      } else if (step.action === 'settle') {
        await picked.permit.settle();
        expect(picked.permit.settledAt).toBe(clock.now());
        done.push({ start: picked.permit.grantedAt, end: clock.now() });
        held.splice(index, 1);
      }
    }
  }

  // Every call still held replies now; the abandoned ones never do (grant + lease).
  clock.advance(1);
  for (const h of held.filter((x) => !x.abandoned)) await h.permit.settle();
  const calls = intervals(budget, held, done, clock.now());
  expect(worstWindow(budget, calls), 'a window held more than its cap').toBeLessThanOrEqual(0);
}

describe('limiter properties', () => {
  it('never lets any window exceed its cap, and serves a waiting caller as soon as the windows allow', async () => {
    prefix = uniquePrefix('limprop');
    await fc.assert(
      fc.asyncProperty(budgetArb, fc.array(stepArb, { minLength: 5, maxLength: 80 }), runPattern),
      { numRuns: 150 },
    );
  });

  it('fills a window exactly to its cap under steady demand', async () => {
    prefix = uniquePrefix('limprop');
    await fc.assert(
      fc.asyncProperty(budgetArb, fc.integer({ min: 0, max: 30 }), async (budget, replyMs) => {
        const clock = simClock();
        const client = simLimiter(
          connections[0]!,
          `${prefix}-${Math.random().toString(36).slice(2, 8)}`,
          clock,
          budget,
        );
        const calls: CallInterval[] = [];
        const horizon = T0 + 2 * Math.max(...budget.windows.map((w) => w.windowMs));
        while (clock.now() < horizon) {
          const permit = await client.acquire('scan');
          clock.advance(replyMs);
          await permit.settle();
          calls.push({ start: permit.grantedAt, end: permit.settledAt! });
        }
        expect(worstWindow(budget, calls)).toBe(0);
      }),
      { numRuns: 30 },
    );
  });
});
