import { RateLimitError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { SignInRequiredError } from '../../../src/auth/delegated-errors.js';
import { DefenderError } from '../../../src/defender/errors.js';
import { createScanProcessor } from '../../../src/scan/process-scan-job.js';
import {
  baseConfig,
  CAMPAIGN_ID,
  fakeClient,
  fakeClock,
  fakeJob,
  fakePermit,
  fakeStore,
  MACHINE_ID,
} from './fakes.js';
import { createLogger } from '../../../src/shared/logger.js';

/** What the Defender client throws when the token provider found no usable sign-in. */
function signInGone(): DefenderError {
  const cause = new SignInRequiredError('default', 'refresh-token-rejected');
  return new DefenderError(
    { status: 0, code: cause.code, retry: 'never', message: cause.message, notSent: true },
    { cause },
  );
}

describe('a tenant whose delegated sign-in is gone', () => {
  it('holds the queue with "run fleetscan login" and fails no device', async () => {
    const { store, devices } = fakeStore();
    await store.addDevices(CAMPAIGN_ID, [MACHINE_ID]);
    const { client } = fakeClient(() => Promise.reject(signInGone()));
    const holds: number[] = [];
    const lines: string[] = [];
    const log = createLogger({ level: 'error' }, { write: (line: string) => lines.push(line) });
    const process = createScanProcessor({
      store,
      client,
      clock: fakeClock(),
      log,
      config: baseConfig(),
      limiter: { tryAcquire: () => Promise.resolve({ permit: fakePermit() }) },
      rateLimit: (ms) => {
        holds.push(ms);
        return Promise.resolve();
      },
      signInHoldMs: 30_000,
    });
    await expect(process(fakeJob().job, 'tok')).rejects.toBeInstanceOf(RateLimitError);
    expect(holds).toEqual([30_000]);
    expect(devices.get(MACHINE_ID)?.state).not.toBe('failed');
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      'Tenant default: the sign-in expired or was revoked (refresh token refused); run fleetscan login',
    ]);
  });
});
