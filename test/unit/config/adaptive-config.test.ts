import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { adaptiveSettings } from '../../../src/runtime/api-from-config.js';

function withFile(text: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'fleetscan-adaptive-')), 'fleetscan.yaml');
  writeFileSync(file, text);
  return loadConfig({ file, env: {} });
}

describe('limits.adaptive', () => {
  it('is on by default with a floor of 10 per minute', () => {
    const { adaptive } = loadConfig({ env: {} }).limits;
    expect(adaptive).toEqual({
      enabled: true,
      min: { cap: 10, windowMs: 60_000 },
      hold: 60_000,
      holdMax: 480_000,
      increaseEvery: 5_000,
      probeInflight: 4,
    });
    expect(adaptiveSettings(adaptive)).toEqual({
      min: { cap: 10, windowMs: 60_000 },
      holdMs: 60_000,
      holdMaxMs: 480_000,
      increaseEveryMs: 5_000,
      probeInflight: 4,
    });
  });

  it('takes the floor as a share of each configured cap', () => {
    const config = withFile('limits:\n  adaptive:\n    min: 25%\n');
    expect(config.limits.adaptive.min).toEqual({ share: 0.25 });
  });

  it('turns off: the limiter gets no adaptive settings', () => {
    const config = withFile('limits:\n  adaptive:\n    enabled: false\n');
    expect(adaptiveSettings(config.limits.adaptive)).toBeUndefined();
  });

  it.each(['0%', '150%', 'ten', '10/1m,20/1h'])('refuses min: %s, naming the key', (min) => {
    let error: unknown;
    try {
      withFile(`limits:\n  adaptive:\n    min: "${min}"\n`);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((issue) => issue.path)).toEqual([
      'limits.adaptive.min',
    ]);
  });
});
