import { describe, expect, it } from 'vitest';
import { ignoredFlagWarnings } from '../../../src/cli/commands/worker.js';
import { loadConfig } from '../../../src/config/load.js';

describe('the worker flags BullMQ needed', () => {
  it('warns once for each of --stalled-interval and --max-stalled given, naming the removal', () => {
    expect(ignoredFlagWarnings({})).toEqual([]);
    const warnings = ignoredFlagWarnings({ stalledInterval: '500ms', maxStalled: '2' });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /^fleetscan worker: --stalled-interval is ignored since 0\.1\.0 .* 1\.0\.0/,
    );
    expect(warnings[1]).toMatch(
      /^fleetscan worker: --max-stalled is ignored since 0\.1\.0 .* 1\.0\.0/,
    );
  });

  it('still loads a configuration that sets their keys', () => {
    const config = loadConfig({
      env: {},
      overrides: { 'worker.stalledInterval': '4s', 'worker.maxStalledCount': 2 },
    });
    expect(config.worker.lockDuration).toBe(30_000);
    expect(loadConfig({ env: {} }).worker.stalledInterval).toBeUndefined();
  });
});
