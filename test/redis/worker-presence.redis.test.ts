import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { listWorkers, startHeartbeat, workersOf } from '../../src/ops/worker-presence.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

let redis: Redis;
let prefix: string;

beforeEach(() => {
  redis = new Redis(testRedisUrl());
  prefix = uniquePrefix('presence');
});

afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

const info = (pid: number, tenants: string[]) => ({
  host: 'host-a',
  pid,
  concurrency: 8,
  tenants,
  startedAt: 1_000,
});

describe('worker presence', () => {
  it('lists processes that beat recently, with the tenants they serve', async () => {
    let clock = 10_000;
    const now = () => clock;
    const a = startHeartbeat(redis, prefix, info(1, ['default']), { intervalMs: 60_000, now });
    const b = startHeartbeat(redis, prefix, info(2, ['contoso', 'default']), {
      intervalMs: 60_000,
      now,
    });
    await Promise.all([a.ready, b.ready]);
    const workers = await listWorkers(redis, prefix, { intervalMs: 60_000, now });
    expect(workers.map((w) => w.id).sort()).toEqual(['host-a:1', 'host-a:2']);
    expect(workersOf(workers, 'contoso').map((w) => w.pid)).toEqual([2]);
    clock = 10_000 + 3 * 60_000; // exactly three intervals later: still counted
    expect(await listWorkers(redis, prefix, { intervalMs: 60_000, now })).toHaveLength(2);
    await a.stop();
    await b.stop();
  });

  it('forgets a process that stopped beating after three intervals', async () => {
    const beat = startHeartbeat(redis, prefix, info(3, ['default']), {
      intervalMs: 60_000,
      now: () => 10_000,
    });
    await beat.ready;
    // As if SIGKILLed: no goodbye, the beats just stop.
    const later = await listWorkers(redis, prefix, {
      intervalMs: 60_000,
      now: () => 10_000 + 3 * 60_000 + 1,
    });
    expect(later).toEqual([]);
    expect(await redis.hlen(`${prefix}:workers:info`)).toBe(0);
    await beat.stop();
  });

  it('removes a process at once when it stops cleanly', async () => {
    const beat = startHeartbeat(redis, prefix, info(4, ['default']), { intervalMs: 60_000 });
    await beat.ready;
    await beat.stop();
    expect(await listWorkers(redis, prefix, { intervalMs: 60_000 })).toEqual([]);
  });

  it('lists a worker whose clock is 30 s behind as live: beats and cut-off are on Redis TIME', async () => {
    // Issue 15: hosts whose clocks disagree by up to ±30 s, against a 15 s cut-off.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() - 30_000);
    const behind = startHeartbeat(redis, prefix, info(7, ['default']), { intervalMs: 5_000 });
    try {
      await behind.ready;
    } finally {
      vi.useRealTimers();
    }
    const workers = await listWorkers(redis, prefix, { intervalMs: 5_000 });
    await behind.stop();
    expect(workers.map((w) => w.pid)).toEqual([7]);
  });
});
