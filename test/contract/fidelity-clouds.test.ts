import { describe, expect, it } from 'vitest';
import { resolveCloud } from '../../src/auth/clouds.js';
import { CLOUDS } from '../../src/config/schema.js';
import { withSimulator } from '../helpers/with-simulator.js';

const none = { apiUrl: undefined, authorityHost: undefined, tokenScope: undefined, tenantId: 't' };

async function tokenFor(
  url: string,
  sim: { credentials: { tenantId: string; clientId: string; clientSecret: string } },
  scope: string,
) {
  const reply = await fetch(`${url}/${sim.credentials.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: sim.credentials.clientId,
      client_secret: sim.credentials.clientSecret,
      scope,
    }).toString(),
  });
  return {
    status: reply.status,
    body: (await reply.json()) as { access_token?: string; error?: string },
  };
}

describe('contract: clouds and token audiences', () => {
  it('quirk cloud-scopes: every cloud default scope fleetscan asks for gets a token the API takes; unsourced audiences are refused', async () => {
    await withSimulator({ fleet: 2 }, async ({ url, sim }) => {
      for (const cloud of CLOUDS) {
        const { scope } = resolveCloud({ ...none, cloud });
        const { status, body } = await tokenFor(url, sim, scope);
        expect({ cloud, status }).toEqual({ cloud, status: 200 });
        const api = await fetch(`${url}/api/machines`, {
          headers: { authorization: `Bearer ${body.access_token ?? ''}` },
        });
        expect({ cloud, status: api.status }).toEqual({ cloud, status: 200 });
      }
      for (const scope of [
        'https://securitycenter.microsoft.us/mtp/.default',
        'https://api.securitycenter.windows.us/.default',
      ]) {
        expect(await tokenFor(url, sim, scope)).toMatchObject({
          status: 400,
          body: { error: 'invalid_resource' },
        });
      }
    });
  });

  it('quirk cloud-hosts: GCC High and DoD sign in at login.microsoftonline.us with the .us WindowsDefenderATP URI; gcc is the US Government service', () => {
    expect(resolveCloud({ ...none, cloud: 'gcc-high' })).toMatchObject({
      apiUrl: 'https://api-gov.securitycenter.microsoft.us',
      authorityHost: 'https://login.microsoftonline.us',
      scope: 'https://securitycenter.onmicrosoft.us/windowsatpservice/.default',
    });
    expect(resolveCloud({ ...none, cloud: 'dod' })).toMatchObject({
      authorityHost: 'https://login.microsoftonline.us',
      scope: 'https://securitycenter.onmicrosoft.us/windowsatpservice/.default',
    });
    expect(resolveCloud({ ...none, cloud: 'gcc' })).toMatchObject({
      apiUrl: 'https://api-gcc.securitycenter.microsoft.us',
      authorityHost: 'https://login.microsoftonline.com',
    });
    // A GCC tenant on the commercial service is `commercial`: the commercial hosts.
    expect(resolveCloud({ ...none, cloud: 'commercial' })).toMatchObject({
      apiUrl: 'https://api.security.microsoft.com',
      authorityHost: 'https://login.microsoftonline.com',
    });
  });
});
