import { describe, expect, it } from 'vitest';
import { resolveCloud } from '../../../src/auth/clouds.js';

const none = {
  apiUrl: undefined,
  authorityHost: undefined,
  tokenScope: undefined,
  tenantId: 'tenant-1',
};

describe('resolveCloud', () => {
  it.each([
    [
      'commercial',
      'https://api.security.microsoft.com',
      'https://login.microsoftonline.com',
      'https://api.securitycenter.microsoft.com/.default',
    ],
    [
      'gcc',
      'https://api-gcc.securitycenter.microsoft.us',
      'https://login.microsoftonline.com',
      'https://securitycenter.onmicrosoft.com/windowsatpservice/.default',
    ],
    [
      'gcc-high',
      'https://api-gov.securitycenter.microsoft.us',
      'https://login.microsoftonline.us',
      'https://securitycenter.onmicrosoft.us/windowsatpservice/.default',
    ],
    [
      'dod',
      'https://api-gov.securitycenter.microsoft.us',
      'https://login.microsoftonline.us',
      'https://securitycenter.onmicrosoft.us/windowsatpservice/.default',
    ],
  ] as const)('%s uses %s, %s and %s', (cloud, apiUrl, authorityHost, scope) => {
    expect(resolveCloud({ ...none, cloud })).toEqual({
      cloud,
      apiUrl,
      authorityHost,
      authority: `${authorityHost}/tenant-1`,
      scope,
      customAuthorityHost: false,
    });
  });

  it('honours the API, authority host and scope overrides', () => {
    expect(
      resolveCloud({
        cloud: 'gcc-high',
        apiUrl: 'https://eu.api.security.microsoft.com/',
        authorityHost: 'https://127.0.0.1:8443/',
        tokenScope: 'https://example.test/.default',
        tenantId: 'tenant-2',
      }),
    ).toEqual({
      cloud: 'gcc-high',
      apiUrl: 'https://eu.api.security.microsoft.com',
      authorityHost: 'https://127.0.0.1:8443',
      authority: 'https://127.0.0.1:8443/tenant-2',
      scope: 'https://example.test/.default',
      customAuthorityHost: true,
    });
  });

  it('has no authority without a tenant (static-token runs)', () => {
    expect(
      resolveCloud({ ...none, cloud: 'commercial', tenantId: undefined }).authority,
    ).toBeUndefined();
  });
});
