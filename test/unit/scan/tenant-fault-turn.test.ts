import { describe, expect, it } from 'vitest';
import { SignInRequiredError } from '../../../src/auth/delegated-errors.js';
import { TokenError } from '../../../src/auth/token-error.js';
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

/** What the Defender client throws when its token provider failed (call.ts `tokenFailure`). */
function noToken(cause: TokenError, status = 0): DefenderError {
  return new DefenderError(
    {
      status,
      code: status === 401 ? 'Unauthorized' : cause.code,
      retry: cause.transient && status === 0 ? 'backoff' : 'never',
      message: cause.message,
      notSent: status === 0,
    },
    { cause },
  );
}

function apiAnswer(status: number, code: string, message: string): DefenderError {
  return new DefenderError({ status, code, retry: 'never', message });
}

async function turnFor(error: DefenderError) {
  const { store, devices } = fakeStore();
  await store.addDevices(CAMPAIGN_ID, [MACHINE_ID]);
  const { client } = fakeClient(() => Promise.reject(error));
  const lines: string[] = [];
  const log = createLogger({ level: 'warn' }, { write: (line: string) => lines.push(line) });
  const processDevice = createDeviceProcessor({
    store,
    clientFor: () => client,
    clock: fakeClock(),
    log,
    config: baseConfig(),
  });
  const turn = await processDevice({
    campaignId: CAMPAIGN_ID,
    machineId: MACHINE_ID,
    tries: 0,
    permit: fakePermit(),
  });
  return { turn, device: devices.get(MACHINE_ID), lines };
}

describe('a device turn that meets a tenant-wide fault', () => {
  it.each([
    [
      'a rejected client secret',
      noToken(new TokenError('invalid_client', 'Entra token request failed: invalid_client')),
      'credentials_rejected',
    ],
    [
      'an Entra outage after the short retries',
      noToken(new TokenError('token_timeout', 'No answer from Entra', { transient: true })),
      'entra_unreachable',
    ],
    [
      'an expired static token (401, refresh impossible)',
      noToken(new TokenError('static_token', 'MDE_ACCESS_TOKEN was rejected'), 401),
      'token_expired',
    ],
    [
      'a delegated sign-in that is gone',
      noToken(new SignInRequiredError('default', 'refresh-token-rejected')),
      'sign_in_required',
    ],
    [
      'a 403 for a missing permission',
      apiAnswer(403, 'Forbidden', 'The application lacks the Machine.Scan permission.'),
      'permission_missing',
    ],
  ] as const)(
    'holds the device untouched and blocks the tenant on %s',
    async (_title, error, reason) => {
      const { turn, device, lines } = await turnFor(error);
      expect(turn.outcome).toBe('blocked');
      // Back at the front of its line: no due time, no attempt spent.
      expect(turn.end).toEqual({ kind: 'hold' });
      expect(turn.tenant).toMatchObject({ reason });
      expect(device?.state).not.toBe('failed');
      // The breaker logs the change once; a device logs nothing at warn or error.
      expect(lines).toEqual([]);
    },
  );

  it.each([
    [403, 'Forbidden', 'The user has no access to machine x: it is outside the device groups.'],
    [404, 'ResourceNotFound', 'Machine x was not found.'],
  ] as const)(
    'keeps a %i %s about one device a failure of that device, and the tenant working',
    async (status, code, message) => {
      const { turn, device } = await turnFor(apiAnswer(status, code, message));
      expect(turn).toMatchObject({ outcome: 'failed', tenant: 'works' });
      expect(device?.state).toBe('failed');
    },
  );
});
