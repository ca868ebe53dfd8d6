import { describe, expect, it } from 'vitest';
import { assertAuthConfigured, type AuthSettings } from '../../../src/auth/auth-config.js';
import { ConfigError } from '../../../src/config/load.js';

const CANARY = 'canary-secret-7f1e';
const empty: AuthSettings = {
  tenantId: undefined,
  clientId: undefined,
  clientSecret: undefined,
  certificatePath: undefined,
  certificatePassword: undefined,
  accessToken: undefined,
};

function configError(settings: Partial<AuthSettings>): ConfigError {
  try {
    assertAuthConfigured({ ...empty, ...settings });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('assertAuthConfigured', () => {
  it('names every missing environment variable', () => {
    const error = configError({});
    expect(error.issues.map((issue) => issue.source)).toEqual([
      'MDE_TENANT_ID',
      'MDE_CLIENT_ID',
      'MDE_CLIENT_SECRET or MDE_CERTIFICATE_PATH',
    ]);
    expect(error.message).toContain('MDE_ACCESS_TOKEN');
  });

  it('names only the client id when the rest is there, and never echoes the secret', () => {
    const error = configError({ tenantId: 't', clientSecret: CANARY });
    expect(error.issues.map((issue) => issue.source)).toEqual(['MDE_CLIENT_ID']);
    expect(JSON.stringify(error.issues) + error.message).not.toContain(CANARY);
  });

  it('refuses a secret and a certificate together', () => {
    const error = configError({
      tenantId: 't',
      clientId: 'c',
      clientSecret: CANARY,
      certificatePath: '/x.pem',
    });
    expect(error.issues.map((issue) => issue.path)).toEqual(['defender.certificatePath']);
    expect(error.message).not.toContain(CANARY);
  });

  it('picks the mode from what is set', () => {
    expect(assertAuthConfigured({ ...empty, accessToken: 'a' }).kind).toBe('static');
    expect(
      assertAuthConfigured({ ...empty, tenantId: 't', clientId: 'c', clientSecret: 's' }).kind,
    ).toBe('secret');
    expect(
      assertAuthConfigured({
        ...empty,
        tenantId: 't',
        clientId: 'c',
        certificatePath: '/x.pem',
        certificatePassword: 'p',
      }),
    ).toEqual({
      kind: 'certificate',
      tenantId: 't',
      clientId: 'c',
      certificatePath: '/x.pem',
      certificatePassword: 'p',
    });
  });
});
