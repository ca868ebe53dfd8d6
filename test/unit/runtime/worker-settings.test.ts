import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { workerSettingsFrom } from '../../../src/runtime/run-scan-worker.js';

describe('workerSettingsFrom', () => {
  it('takes every worker.* setting from the configuration, not only the concurrency', () => {
    const config = loadConfig({
      env: {},
      overrides: {
        'worker.concurrency': 3,
        'worker.lockDuration': '7s',
        'worker.stalledInterval': '4s',
        'worker.maxStalledCount': 2,
      },
    });
    expect(workerSettingsFrom(config)).toEqual({
      concurrency: 3,
      lockDurationMs: 7_000,
      stalledIntervalMs: 4_000,
      maxStalledCount: 2,
      pollActionStatuses: true,
    });
    expect(workerSettingsFrom(config, { pollActionStatuses: false }).pollActionStatuses).toBe(
      false,
    );
  });
});
