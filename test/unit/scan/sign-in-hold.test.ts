import { describe, expect, it } from 'vitest';
import { SignInRequiredError } from '../../../src/auth/delegated-errors.js';
import { DefenderError } from '../../../src/defender/errors.js';
import { createDeviceProcessor } from '../../../src/scan/process-device.js';
import { createLogger } from '../../../src/shared/logger.js';
import {
  baseConfig,
  CAMPAIGN_ID,
  fakeClient,
  fakeClock,
  fakePermit,
  fakeStore,
  MACHINE_ID,
} from './fakes.js';

/** What the Defender client throws when the token provider found no usable sign-in. */
function signInGone(): DefenderError {
  const cause = new SignInRequiredError('default', 'refresh-token-rejected');
  return new DefenderError(
    { status: 0, code: cause.code, retry: 'never', message: cause.message, notSent: true },
    { cause },
  );
}

describe('a tenant whose delegated sign-in is gone', () => {
  it('keeps the device for later with "run fleetscan login" and fails no device', async () => {
    const { store, devices } = fakeStore();
    await store.addDevices(CAMPAIGN_ID, [MACHINE_ID]);
    const { client } = fakeClient(() => Promise.reject(signInGone()));
    const lines: string[] = [];
    const log = createLogger({ level: 'error' }, { write: (line: string) => lines.push(line) });
    const clock = fakeClock();
    const processDevice = createDeviceProcessor({
      store,
      clientFor: () => client,
      clock,
      log,
      config: baseConfig(),
      signInHoldMs: 30_000,
    });
    const turn = await processDevice({
      campaignId: CAMPAIGN_ID,
      machineId: MACHINE_ID,
      tries: 0,
      permit: fakePermit(),
    });
    expect(turn).toEqual({
      outcome: 'held',
      end: { kind: 'due', at: clock.now() + 30_000, attempt: false },
    });
    expect(devices.get(MACHINE_ID)?.state).not.toBe('failed');
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      'Tenant default: the sign-in expired or was revoked (refresh token refused); run fleetscan login',
    ]);
  });
});
