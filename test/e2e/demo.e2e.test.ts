import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DemoSummary } from '../../src/demo/demo-summary.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { testRedisUrl } from '../helpers/redis.js';

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

describe('fleetscan demo', () => {
  it('runs one campaign to the end on embedded defaults and writes the export', async () => {
    const out = join(tmpdir(), `fleetscan-demo-e2e-${process.pid}.csv`);
    const redis = new Redis(testRedisUrl());
    const demoKeys = async () => new Set(await redis.keys('fleetscan-demo-*'));
    const before = await demoKeys();
    try {
      const result = await runCli(['demo', '--devices', '300', '--json', '--out', out], {
        env: { REDIS_URL: testRedisUrl() },
        timeoutMs: 180_000,
      });
      expect(result.code, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout) as DemoSummary;
      expect(summary.devices).toBe(300);
      expect(summary.counts.queued + summary.counts.deferred).toBe(0);
      expect(summary.counts.requested + summary.counts.failed).toBe(300);
      expect(summary.actionsRecorded).toBeGreaterThan(0);
      expect(summary.simulator.throttled).toBe(0);
      for (const w of summary.busiestWindows) expect(w.max).toBeLessThanOrEqual(w.cap);
      expect(summary.exportPath).toBe(out);
      const lines = readFileSync(out, 'utf8').trim().split(/\r\n/);
      expect(lines[0]).toBe(
        'machineId,state,machineActionId,actionStatus,reason,attempts,requestedAt,joinedExisting,' +
          'actionUpdatedAt,cancelResult,scanResult,scanCompletedAt,scanType,hostname,nextAttemptAt,' +
          'threats,threatNames,unremediated,threatFiles,alerts,alertTitles',
      );
      expect(lines).toHaveLength(301);
      // It cleaned up after itself: no key of its prefix is left in the shared Redis.
      expect([...(await demoKeys())].filter((key) => !before.has(key))).toEqual([]);
    } finally {
      redis.disconnect();
      rmSync(out, { force: true });
    }
  }, 200_000);
});
