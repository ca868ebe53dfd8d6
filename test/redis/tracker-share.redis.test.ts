import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createScanLimiter } from '../../src/limiter/scan-limiter.js';
import { shareGate, shareWindows } from '../../src/tracking/share-gate.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const redis = new Redis(testRedisUrl());
let prefix = '';
afterAll(() => {
  redis.disconnect();
});
afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
});

describe('the tracker share of the budget', () => {
  it('holds the tracker to its share while its calls still count against the whole budget', async () => {
    prefix = uniquePrefix('share');
    const windows = [{ cap: 40, windowMs: 60_000 }];
    const limiter = (budgetId: string, w = windows) =>
      createScanLimiter({
        redis,
        prefix,
        budgetId,
        windows: w,
        guardMs: 0,
        throttleDefaultMs: 1_000,
      });
    const main = limiter('tenant');
    const share = limiter('tenant:tracker', shareWindows(windows, 0.1));
    const gate = shareGate(main, share);
    for (let i = 0; i < 4; i++) await (await gate.acquire('machineActions')).settle();
    // A fifth call has to wait for the share's window, though the budget has room.
    const abort = new AbortController();
    const fifth = gate.acquire('machineActions', abort.signal);
    const waited = await Promise.race([
      fifth.then(() => false),
      new Promise<boolean>((resolve) =>
        setTimeout(() => {
          resolve(true);
        }, 300),
      ),
    ]);
    abort.abort();
    await fifth.catch(() => undefined);
    expect(waited).toBe(true);
    const [usage] = await main.usage('machineActions');
    expect(usage?.windows[0]?.used).toBe(4);
    expect((await main.tryAcquire('machineActions')).permit).toBeDefined();
  });
});
