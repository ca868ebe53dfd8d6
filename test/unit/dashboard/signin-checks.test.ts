import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { verifyIdToken } from '../../../src/dashboard/signin/id-token.js';
import { personFromClaims } from '../../../src/dashboard/signin/person-from-claims.js';
import { SignInState } from '../../../src/simulator/signin-state.js';

const state = new SignInState();
const [jwk] = state.jwks().keys as [Record<string, string>];
const key = createPublicKey({ key: jwk, format: 'jwk' });
const keyFor = (kid: string) => Promise.resolve(kid === jwk['kid'] ? key : undefined);
const NOW = 1_800_000_000_000;
const expected = {
  issuer: 'https://login.example/t1/v2.0',
  audience: 'app-1',
  tenantId: 't1',
  nonce: 'n-1',
  nowMs: NOW,
};
const claims = {
  iss: expected.issuer,
  aud: 'app-1',
  tid: 't1',
  nonce: 'n-1',
  exp: NOW / 1000 + 600,
  oid: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
  preferred_username: 'vera@contoso.test',
  roles: ['FleetScan.Viewer'],
};

describe('ID token checks', () => {
  it('accepts a sound token and refuses one whose payload was changed after signing', async () => {
    const token = state.signIdToken(claims);
    await expect(verifyIdToken(token, expected, keyFor)).resolves.toMatchObject({
      oid: claims.oid,
    });
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, roles: ['FleetScan.Admin'] }));
    await expect(
      verifyIdToken(`${h ?? ''}.${forged.toString('base64url')}.${s ?? ''}`, expected, keyFor),
    ).rejects.toThrow('signature does not verify');
  });

  it('refuses an unsigned token and an unknown key', async () => {
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    await expect(verifyIdToken(none, expected, keyFor)).rejects.toThrow('RS256');
    await expect(
      verifyIdToken(state.signIdToken(claims), expected, () => Promise.resolve(undefined)),
    ).rejects.toThrow('a key the tenant does not publish');
  });
});

describe('roles from claims', () => {
  const mapping = { groups: { 'g-op': 'operator' as const }, groupOverage: 'deny' as const };
  it.each([
    [{ roles: ['FleetScan.Viewer'] }, ['viewer']],
    [{ roles: ['FleetScan.Viewer', 'FleetScan.Admin'] }, ['viewer', 'operator', 'admin']],
    [{ groups: ['g-op', 'g-other'] }, ['viewer', 'operator']],
    [{ roles: ['Something.Else'], groups: ['g-op'] }, ['viewer', 'operator']],
  ])('%j grants %j', (extra, roles) => {
    expect(
      personFromClaims({ oid: 'o', preferred_username: 'u', ...extra }, mapping).roles,
    ).toEqual(roles);
  });

  it('lets app roles count on group overage only when configured so', () => {
    const overage = {
      oid: 'o',
      preferred_username: 'u',
      roles: ['FleetScan.Viewer'],
      _claim_names: { groups: 'src1' },
    };
    expect(() => personFromClaims(overage, mapping)).toThrow('more than 200 groups');
    expect(personFromClaims(overage, { ...mapping, groupOverage: 'app-roles' }).roles).toEqual([
      'viewer',
    ]);
  });
});

describe('dashboard.auth: entra configuration', () => {
  it('names every missing key, and refuses a shared token beside it', () => {
    expect(() =>
      loadConfig({
        env: {},
        overrides: { 'dashboard.auth': 'entra', 'dashboard.token': 'x'.repeat(40) },
      }),
    ).toThrow(
      /dashboard\.entra\.tenantId[\s\S]*dashboard\.entra\.clientId[\s\S]*dashboard\.entra\.redirectUri[\s\S]*dashboard\.entra\.clientSecretEnv[\s\S]*dashboard\.token/,
    );
  });

  it('reads the client secret from the variable it names, and says when it is unset', () => {
    const overrides = {
      'dashboard.auth': 'entra',
      'dashboard.entra.tenantId': 't1',
      'dashboard.entra.clientId': 'app-1',
      'dashboard.entra.clientSecretEnv': 'DASH_SECRET',
      'dashboard.entra.redirectUri': 'https://dash.example/signin/callback',
    };
    expect(
      loadConfig({ env: { DASH_SECRET: 's3cret' }, overrides }).dashboard.entra.secrets,
    ).toEqual({ clientSecret: 's3cret', certificatePassword: undefined });
    expect(() => loadConfig({ env: {}, overrides })).toThrow(
      /dashboard\.entra\.clientSecretEnv \(DASH_SECRET\): The environment variable DASH_SECRET is not set/,
    );
  });
});
