import { describe, expect, it } from 'vitest';
import { turnCostBetween, turnCostEnv } from '../../../bench/lib/turn-cost.js';

describe('turnCostBetween', () => {
  it('divides what both workers spent between the samples by the calls', () => {
    const before = [
      { writes: 40, cpuMs: 300 },
      { writes: 50, cpuMs: 350 },
    ];
    const after = [
      { writes: 340, cpuMs: 420 },
      { writes: 350, cpuMs: 430 },
    ];
    expect(turnCostBetween(before, after, 200)).toEqual({
      cpuMsPerCall: 1,
      redisWritesPerCall: 3,
    });
  });

  it('says nothing without calls or with samples of other workers', () => {
    const sample = [{ writes: 1, cpuMs: 1 }];
    expect(turnCostBetween(sample, sample, 0)).toEqual({
      cpuMsPerCall: null,
      redisWritesPerCall: null,
    });
    expect(turnCostBetween(sample, [...sample, ...sample], 10).cpuMsPerCall).toBeNull();
  });
});

describe('turnCostEnv', () => {
  it("adds the preload to the worker's NODE_OPTIONS and names the Redis port", () => {
    const env = turnCostEnv({ NODE_OPTIONS: '--max-old-space-size=512' }, 'redis://127.0.0.1:7001');
    expect(env['NODE_OPTIONS']).toMatch(
      /^--max-old-space-size=512 --import=.*turn-cost-preload\.js$/,
    );
    expect(env['BENCH_REDIS_PORT']).toBe('7001');
  });
});
