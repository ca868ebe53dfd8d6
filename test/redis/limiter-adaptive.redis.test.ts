import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  VERIFIED_TTL_MS,
  type AdaptiveSettings,
} from '../../src/limiter/adaptive/adaptive-budget.js';
import { budgetKeys } from '../../src/limiter/budget-keys.js';
import {
  createScanLimiter,
  readAdaptiveState,
  type ScanLimiter,
} from '../../src/limiter/scan-limiter.js';
import type { Redis } from '../../src/shared/redis.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { connect, simClock, type SimClock } from './limiter-fixtures.js';

const WINDOW = { cap: 10, windowMs: 1000 };
const BUDGET = 'commercial:tenant:app';
const SETTINGS: AdaptiveSettings = {
  min: { cap: 2, windowMs: 1000 },
  holdMs: 500,
  holdMaxMs: 4000,
  increaseEveryMs: 100,
  probeInflight: 100,
};

let connections: Redis[];
let prefix: string;
let clock: SimClock;
let logLines: { msg: string }[];

beforeAll(() => {
  connections = connect(3);
});
afterAll(() => {
  for (const redis of connections) redis.disconnect();
});
afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
});

/** Limiters on separate connections (processes) sharing one budget, one log sink. */
function processes(count: number, adaptive: AdaptiveSettings | 'off' = SETTINGS): ScanLimiter[] {
  prefix = uniquePrefix('adaptive');
  clock = simClock();
  logLines = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(JSON.parse(chunk.toString()) as { msg: string });
      done();
    },
  });
  const log = pino({ level: 'info' }, sink);
  return connections.slice(0, count).map((redis) =>
    createScanLimiter({
      redis,
      prefix,
      budgetId: BUDGET,
      windows: [WINDOW],
      guardMs: 0,
      leaseMs: 60_000,
      throttleDefaultMs: 1000,
      clock,
      time: 'clock',
      adaptive: adaptive === 'off' ? undefined : adaptive,
      log,
    }),
  );
}

const capsKey = () => budgetKeys(prefix, BUDGET, 'scan', [WINDOW]).caps;

async function grant(limiter: ScanLimiter) {
  const result = await limiter.tryAcquire('scan');
  if (!result.permit) throw new Error(`expected a slot, was told to wait ${result.waitMs} ms`);
  return result.permit;
}

/** Grants `n` slots, settles them and reports each as answered `status`. */
async function calls(limiter: ScanLimiter, n: number, status: number) {
  const permits = [];
  for (let i = 0; i < n; i++) permits.push(await grant(limiter));
  for (const permit of permits) {
    await permit.settle();
    await limiter.observe('scan', permit, status);
  }
  return permits;
}

async function grantsNow(limiter: ScanLimiter): Promise<number> {
  let granted = 0;
  while ((await limiter.tryAcquire('scan')).permit) granted++;
  return granted;
}

const lowered = () => logLines.filter((l) => l.msg.startsWith('effective cap lowered')).length;

describe('adaptive budget', () => {
  it('lowers the cap for every process after a 429 on a granted slot', async () => {
    const [a, b] = processes(2) as [ScanLimiter, ScanLimiter];
    await calls(a, 6, 201);
    const [refused] = await calls(a, 1, 429);
    expect(refused).toBeDefined();
    // The contract other dispatchers read: field = window length in ms, value = effective cap.
    expect(await connections[0]!.hget(capsKey(), '1000')).toBe('6');
    clock.advance(2000);
    expect(await grantsNow(b)).toBe(6);
    const [usage] = await b.usage('scan');
    expect(usage?.windows[0]).toMatchObject({ cap: 6, configuredCap: 10 });
    expect(usage?.lastDecrease?.reason).toBe(
      '429 on a granted slot (window not named): 1s window 10 → 6 (7 of ours in it)',
    );
    const state = await readAdaptiveState(b);
    expect(state).toMatchObject({
      enabled: true,
      state: 'lowered',
      family: 'scan',
      windows: [{ windowMs: 1000, configuredCap: 10, effectiveCap: 6, floor: 2 }],
      lastDecrease: { at: clock.now() - 2000 },
    });
  });

  it('lowers the cap once, and logs once, for a storm of 429s seen by three processes', async () => {
    const limiters = processes(3);
    const permits = [];
    for (let i = 0; i < 9; i++) permits.push(await grant(limiters[i % 3]!));
    for (const permit of permits) await permit.settle();
    await calls(limiters[0]!, 0, 201);
    // Five of them 429, reported by all three processes at once (each also pauses the budget).
    await Promise.all(
      permits
        .slice(4)
        .flatMap((permit, i) => [
          limiters[i % 3]!.observe('scan', permit, 429),
          limiters[i % 3]!.throttle('scan', 1000),
        ]),
    );
    expect(await connections[0]!.hget(capsKey(), '1000')).toBe('8');
    expect(lowered()).toBe(1);
    // The storm's one line is the change of the effective cap: no line per 429.
    expect(logLines.map((l) => l.msg)).toEqual([expect.stringMatching(/^effective cap lowered/)]);
  });

  it('ignores a 429 of a slot granted before the last decrease', async () => {
    const [a] = processes(1) as [ScanLimiter];
    const early = await grant(a);
    clock.advance(10);
    await calls(a, 5, 201);
    await calls(a, 1, 429);
    // 6 settled and `early` in flight, sent before the refused call: 7 of ours, but the server
    // was seen to accept 5 of them (the 6th settled was the refused one): 5 fitted.
    expect(await connections[0]!.hget(capsKey(), '1000')).toBe('5');
    clock.advance(10);
    await early.settle();
    await a.observe('scan', early, 429);
    expect(await connections[0]!.hget(capsKey(), '1000')).toBe('5');
    expect(lowered()).toBe(1);
  });

  it('raises the cap again after the hold while the window is used up and calls succeed', async () => {
    const [a] = processes(1) as [ScanLimiter];
    await calls(a, 5, 201);
    await calls(a, 1, 429);
    expect(await connections[0]!.hget(capsKey(), '1000')).toBe('5');
    clock.advance(400);
    await calls(a, 0, 201);
    expect(await grantsNow(a)).toBe(0);
    clock.advance(700); // past the hold, and the window emptied
    await calls(a, 5, 201);
    // The failed level was 6 of ours: probed by one unit.
    expect(await connections[0]!.hget(capsKey(), '1000')).toBe('6');
    expect(logLines.some((l) => l.msg.startsWith('effective cap raised'))).toBe(true);
  });

  it('above the level the server has accepted, keeps only probeInflight calls in flight (a fresh budget too)', async () => {
    const [a] = processes(1, {
      ...SETTINGS,
      min: { cap: 1, windowMs: 1000 },
      probeInflight: 2,
    }) as [ScanLimiter];
    // A fresh budget: the floor (1) goes as accepted, then two probes above it.
    const first = await grant(a);
    await grant(a);
    await grant(a);
    const refused = await a.tryAcquire('scan');
    expect(refused.waitMs).toBeGreaterThan(0);
    await first.settle();
    await a.observe('scan', first, 201);
    // One accepted at the floor's level: no probe ended, so nothing more goes.
    expect(await grantsNow(a)).toBe(0);
  });

  it('remembers a level the server accepted: a later campaign sends up to it without probing', async () => {
    const [a] = processes(1, { ...SETTINGS, probeInflight: 2 }) as [ScanLimiter];
    // A first campaign fills the window, two calls in flight at a time, every one accepted.
    for (let i = 0; i < 5; i++) await calls(a, 2, 201);
    // Hours later (as far as the window and the known-good level go): a new campaign.
    clock.advance(3_600_000);
    await connections[0]!.del(budgetKeys(prefix, BUDGET, 'scan', [WINDOW]).good);
    let inFlight = 0;
    while ((await a.tryAcquire('scan')).permit) inFlight++;
    expect(inFlight).toBe(10);
  });

  it('keeps a verified level for a week and a day: a weekly sweep starts without probing', async () => {
    const [a] = processes(1, { ...SETTINGS, probeInflight: 2 }) as [ScanLimiter];
    for (let i = 0; i < 5; i++) await calls(a, 2, 201);
    expect(await connections[0]!.hget(capsKey(), 'verified:1000')).toBe('10');
    // Redis expires the hash by its own clock, so the TTL it holds is what decides.
    expect(VERIFIED_TTL_MS).toBeGreaterThanOrEqual(8 * 86_400_000);
    expect(await connections[0]!.pttl(capsKey())).toBeGreaterThan(VERIFIED_TTL_MS - 60_000);
    // The next weekly run: the windows and the known-good level are long gone by then.
    clock.advance(7 * 86_400_000);
    await connections[0]!.del(budgetKeys(prefix, BUDGET, 'scan', [WINDOW]).good);
    let inFlight = 0;
    while ((await a.tryAcquire('scan')).permit) inFlight++;
    expect(inFlight).toBe(10);
  });

  it('after a 429 decrease, forgets the verified level and keeps the lowered caps only as long as the state', async () => {
    const [a] = processes(1, { ...SETTINGS, probeInflight: 2 }) as [ScanLimiter];
    for (let i = 0; i < 5; i++) await calls(a, 2, 201);
    clock.advance(2000);
    await calls(a, 1, 429);
    expect(await connections[0]!.hget(capsKey(), 'verified:1000')).toBeNull();
    const stateKey = budgetKeys(prefix, BUDGET, 'scan', [WINDOW]).adaptive;
    const stateTtl = await connections[0]!.pttl(stateKey);
    expect(stateTtl).toBeGreaterThan(0);
    expect(stateTtl).toBeLessThanOrEqual(86_400_000);
    expect(await connections[0]!.pttl(capsKey())).toBeLessThanOrEqual(stateTtl);
  });

  it('forgets the verified level after a 429 decrease and probes again', async () => {
    const [a] = processes(1, { ...SETTINGS, probeInflight: 2 }) as [ScanLimiter];
    for (let i = 0; i < 5; i++) await calls(a, 2, 201);
    clock.advance(2000);
    await calls(a, 1, 429);
    expect(await connections[0]!.hget(capsKey(), 'verified:1000')).toBeNull();
    clock.advance(3_600_000);
    await connections[0]!.del(budgetKeys(prefix, BUDGET, 'scan', [WINDOW]).good);
    let inFlight = 0;
    while ((await a.tryAcquire('scan')).permit) inFlight++;
    // The floor (2) as accepted, and 2 probes above it.
    expect(inFlight).toBe(4);
    // Calls accepted under the lowered cap verify nothing: the counts may hold refused calls.
    await connections[0]!.del(budgetKeys(prefix, BUDGET, 'scan', [WINDOW]).inflight);
    await calls(a, 1, 201);
    expect(await connections[0]!.hget(capsKey(), 'verified:1000')).toBeNull();
  });

  // Issue 26: one admission rule for every family. A cap another process lowered (its adaptive
  // budget on) binds this one too, as it always did for dispatch: turned off means no learning
  // and no probe limit here, never ignoring what the server refused on the shared budget.
  it('learns nothing and probes nothing when turned off, but keeps a cap another process lowered', async () => {
    const [a] = processes(1, 'off') as [ScanLimiter];
    // Nothing accepted yet (no known-good level), and no probe limit: the whole cap.
    expect(await grantsNow(a)).toBe(10);
    await connections[0]!.del(budgetKeys(prefix, BUDGET, 'scan', [WINDOW]).inflight);
    await connections[0]!.hset(capsKey(), '1000', '3');
    expect(await grantsNow(a)).toBe(3);
    expect(await readAdaptiveState(a)).toEqual({
      enabled: false,
      state: 'off',
      family: 'scan',
      windows: [],
      lastDecrease: null,
    });
  });
});
