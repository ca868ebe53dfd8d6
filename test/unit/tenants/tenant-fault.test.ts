import { describe, expect, it } from 'vitest';
import { TokenError } from '../../../src/auth/token-error.js';
import { DefenderError, type Retry } from '../../../src/defender/errors.js';
import { tenantFault } from '../../../src/tenants/tenant-fault.js';

const api = (status: number, code: string, message?: string, retry: Retry = 'never') =>
  new DefenderError({ status, code, retry, message });
const token = (code: string, transient = false) =>
  new TokenError(code, `token failed: ${code}`, { transient });

describe('tenantFault', () => {
  it.each([
    ['invalid_client', token('invalid_client'), 'credentials_rejected'],
    ['an untrusted http authority', token('untrusted_authority'), 'credentials_rejected'],
    ['an unreadable certificate', token('certificate_unreadable'), 'certificate_invalid'],
    ['a network error after retries', token('network_error', true), 'entra_unreachable'],
    ['a token timeout', token('token_timeout', true), 'entra_unreachable'],
    ['a static token refused', token('static_token'), 'token_expired'],
    ['no sign-in', token('sign_in_required'), 'sign_in_required'],
    ['a 401 after the forced refresh', api(401, 'Unauthorized'), 'credentials_rejected'],
    [
      'a 403 naming a permission',
      api(403, 'Forbidden', 'The application lacks the Machine.Scan permission.'),
      'permission_missing',
    ],
    [
      "Microsoft's wording of a missing permission",
      api(
        403,
        'Forbidden',
        'The application does not have any of the required application permissions (Machine.Scan) to access the resource.',
      ),
      'permission_missing',
    ],
  ] as const)('%s blocks the tenant (%s)', (_title, error, reason) => {
    expect(tenantFault(error)?.reason).toBe(reason);
  });

  it('says what to fix in one sentence', () => {
    expect(tenantFault(token('invalid_client'))?.message).toBe(
      'token failed: invalid_client. Check the tenant id, client id and client secret (or certificate) and the authority URL, then restart the workers.',
    );
  });

  it('finds a token failure wrapped in the Defender error of a call', () => {
    const wrapped = new DefenderError(
      { status: 0, code: 'invalid_client', retry: 'never', notSent: true },
      { cause: token('invalid_client') },
    );
    expect(tenantFault(wrapped)?.reason).toBe('credentials_rejected');
  });

  it.each([
    ['a 403 about one device', api(403, 'Forbidden', 'The user has no access to machine x.')],
    ['a 404', api(404, 'ResourceNotFound', 'Machine x was not found.')],
    [
      'a busy device',
      api(400, 'ActiveRequestAlreadyExists', 'Action is already in progress', 'later'),
    ],
    ['a 5xx', api(503, 'ServiceUnavailable', undefined, 'backoff')],
    ['a 429', api(429, 'TooManyRequests', undefined, 'throttled')],
    ['a plain error', new Error('boom')],
  ] as const)('%s stays a per-device outcome', (_title, error) => {
    expect(tenantFault(error)).toBeUndefined();
  });
});
