import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { workerSettingsFrom } from '../../../src/runtime/run-scan-worker.js';

describe('workerSettingsFrom', () => {
  it('takes the concurrency from the configuration (the lease travels with the lanes)', () => {
    const config = loadConfig({
      env: {},
      overrides: {
        'worker.concurrency': 3,
        'worker.lockDuration': '7s',
        'worker.stalledInterval': '4s',
        'worker.maxStalledCount': 2,
      },
    });
    expect(workerSettingsFrom(config)).toEqual({ concurrency: 3, pollActionStatuses: true });
    expect(config.worker.lockDuration).toBe(7_000); // createLanes' deviceLeaseMs in buildRuntime
    expect(workerSettingsFrom(config, { pollActionStatuses: false }).pollActionStatuses).toBe(
      false,
    );
  });
});
