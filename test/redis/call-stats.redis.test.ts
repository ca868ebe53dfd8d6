import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createCallStats } from '../../src/metrics/call-stats.js';
import { callsFor, readCallTimeline } from '../../src/metrics/call-timeline.js';
import type { ApiCallEvent } from '../../src/defender/call.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

function connect(): { redis: Redis; prefix: string } {
  const prefix = uniquePrefix('call-stats');
  const redis = new Redis(testRedisUrl());
  cleanups.push(async () => {
    await cleanupPrefix(testRedisUrl(), prefix);
    redis.disconnect();
  });
  return { redis, prefix };
}

const scanCall = (status: number, durationMs: number): ApiCallEvent => ({
  family: 'scan',
  method: 'POST',
  status,
  durationMs,
});

/** A 24 h flush interval: nothing is written unless `flush()` is called. */
const NEVER = 86_400_000;

describe('call statistics kept in memory between flushes', () => {
  it('writes nothing until flushed, yet its own readers see every call; one flush writes the totals', async () => {
    const { redis, prefix } = connect();
    const stats = createCallStats(redis, prefix, { flushMs: NEVER, timelineBucketMs: 60_000 });
    await callsFor('c1', () => {
      for (let i = 0; i < 5; i++) stats.recordApiCall(scanCall(201, 10));
      stats.recordApiCall(scanCall(429, 4));
      // A request that never left counts in the totals, not in the campaign's timeline.
      stats.recordApiCall({ ...scanCall(0, 1), notSent: true });
      return Promise.resolve();
    });
    stats.recordApiCall({ ...scanCall(200, 7), family: 'machineActions', method: 'GET' });

    expect(await redis.exists(`${prefix}:stats:api`, `${prefix}:stats:api-ms`)).toBe(0);
    const seen = await stats.readApiCalls();
    expect(seen).toEqual(
      expect.arrayContaining([
        { family: 'scan', status: 201, count: 5 },
        { family: 'scan', status: 429, count: 1 },
        { family: 'scan', status: 0, count: 1 },
        { family: 'machineActions', status: 200, count: 1 },
      ]),
    );
    expect(seen).toHaveLength(4);
    expect(await stats.readApiCallSeconds()).toEqual(
      expect.arrayContaining([
        { family: 'scan', seconds: 0.055 },
        { family: 'machineActions', seconds: 0.007 },
      ]),
    );

    await stats.flush();
    expect(await redis.hgetall(`${prefix}:stats:api`)).toEqual({
      'scan|201': '5',
      'scan|429': '1',
      'scan|0': '1',
      'machineActions|200': '1',
    });
    expect(await redis.hgetall(`${prefix}:stats:api-ms`)).toEqual({
      scan: '55',
      machineActions: '7',
    });
    const timeline = await readCallTimeline(redis, prefix, 'c1');
    expect(timeline.map((b) => [b.family, b.calls])).toEqual([['scan', 6]]);
    // Flushed counts are not counted twice by the readers.
    expect(await stats.readApiCalls()).toEqual(expect.arrayContaining(seen));
    expect(await stats.readApiCalls()).toHaveLength(4);

    // Another process's totals add up with this one's.
    const other = createCallStats(redis, prefix, { flushMs: NEVER });
    other.recordApiCall(scanCall(201, 5));
    await other.flush();
    stats.recordApiCall(scanCall(201, 5));
    expect(await stats.readApiCalls()).toContainEqual({ family: 'scan', status: 201, count: 7 });
  });

  it('writes by itself within the flush interval', async () => {
    const { redis, prefix } = connect();
    const stats = createCallStats(redis, prefix, { flushMs: 50 });
    for (let i = 0; i < 3; i++) stats.recordApiCall(scanCall(201, 2));
    await waitUntilStored(redis, `${prefix}:stats:api`, 'scan|201', '3');
    stats.recordApiCall(scanCall(201, 2));
    await waitUntilStored(redis, `${prefix}:stats:api`, 'scan|201', '4');
    expect(await redis.hget(`${prefix}:stats:api-ms`, 'scan')).toBe('8');
  });

  it('without a flush interval, writes each call at once (short-lived commands)', async () => {
    const { redis, prefix } = connect();
    const stats = createCallStats(redis, prefix);
    stats.recordApiCall(scanCall(201, 3));
    // Commands on one connection run in order: the read after the call sees its write.
    expect(await redis.hget(`${prefix}:stats:api`, 'scan|201')).toBe('1');
    expect(await redis.hget(`${prefix}:stats:api-ms`, 'scan')).toBe('3');
  });
});

async function waitUntilStored(redis: Redis, key: string, field: string, value: string) {
  const deadline = Date.now() + 10_000;
  while ((await redis.hget(key, field)) !== value) {
    if (Date.now() > deadline) throw new Error(`${key} ${field} never became ${value}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
