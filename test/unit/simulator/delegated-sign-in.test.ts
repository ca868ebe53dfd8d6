import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSimulator, type Simulator } from '../../../src/simulator/build-simulator.js';
import type { SimulatorOptions } from '../../../src/simulator/options.js';
import { errorCode, fakeClock, scan } from './sim-kit.js';

const USER = 'ana@contoso.example';
const RESOURCE = 'https://api.securitycenter.microsoft.com';
const SCOPE = `${RESOURCE}/.default openid profile offline_access`;
let sim: Simulator;
const clock = fakeClock();

afterEach(async () => {
  await sim.close();
});

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  sim = await buildSimulator({
    fleet: 30,
    now: clock.now,
    users: [{ username: USER, deviceGroups: ['Servers'] }],
    ...options,
  });
  return sim;
}

const form = (url: string, fields: Record<string, string>) =>
  sim.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });

const tenantPath = () => `/${sim.credentials.tenantId}/oauth2/v2.0`;

async function deviceCode(): Promise<{ device_code: string; user_code: string; interval: number }> {
  const response = await form(`${tenantPath()}/devicecode`, {
    client_id: sim.credentials.clientId,
    scope: SCOPE,
  });
  expect(response.statusCode).toBe(200);
  return response.json();
}

const poll = (code: string) =>
  form(`${tenantPath()}/token`, {
    grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
    client_id: sim.credentials.clientId,
    device_code: code,
  });

const oauthError = (response: LightMyRequestResponse) =>
  response.json<{ error: string; error_description: string }>();

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;

async function signIn(): Promise<{ access_token: string; refresh_token: string }> {
  const code = await deviceCode();
  expect(sim.approveDeviceCode(code.user_code, USER)).toBe(true);
  const response = await poll(code.device_code);
  expect(response.statusCode).toBe(200);
  return response.json();
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('device-code sign-in', () => {
  it('answers authorization_pending, slow_down when polled too fast, then tokens once the user entered the code', async () => {
    await start({ deviceCodeIntervalSec: 5 });
    const code = await deviceCode();
    expect(code.interval).toBe(5);
    expect(oauthError(await poll(code.device_code)).error).toBe('authorization_pending');
    clock.advance(1_000);
    expect(oauthError(await poll(code.device_code)).error).toBe('slow_down');
    clock.advance(5_000);
    expect(oauthError(await poll(code.device_code)).error).toBe('authorization_pending');
    expect(sim.approveDeviceCode(code.user_code.toLowerCase(), USER.toUpperCase())).toBe(true);
    clock.advance(5_000);
    const tokens = await poll(code.device_code);
    expect(tokens.statusCode).toBe(200);
    const body = tokens.json<Record<string, string>>();
    expect(body['scope']).toContain(`${RESOURCE}/.default`);
    expect(claimsOf(body['access_token'] ?? '')).toMatchObject({
      idtyp: 'user',
      upn: USER,
      scp: 'Machine.Scan Machine.Read.All',
      aud: RESOURCE,
    });
    expect(claimsOf(body['access_token'] ?? '')).not.toHaveProperty('roles');
    expect(body['refresh_token']).toMatch(/^sim-rt-/);
    // A code is redeemed once.
    clock.advance(5_000);
    expect(oauthError(await poll(code.device_code)).error).toBe('invalid_grant');
  });

  it('expires an unanswered code and refuses unknown users', async () => {
    await start({ deviceCodeLifetimeSec: 60 });
    const code = await deviceCode();
    expect(sim.approveDeviceCode(code.user_code, 'mallory@contoso.example')).toBe(false);
    clock.advance(61_000);
    expect(oauthError(await poll(code.device_code)).error).toBe('expired_token');
    expect(sim.approveDeviceCode(code.user_code, USER)).toBe(false);
  });

  it('refuses public client flows with AADSTS7000218 when the app registration does not allow them', async () => {
    await start({ publicClient: false });
    const code = await deviceCode();
    const response = await poll(code.device_code);
    expect(response.statusCode).toBe(401);
    expect(oauthError(response)).toMatchObject({ error: 'invalid_client' });
    expect(oauthError(response).error_description).toMatch(/^AADSTS7000218/);
  });

  it('redeems refresh tokens, old ones staying valid, until the user’s sessions are revoked', async () => {
    await start();
    const first = await signIn();
    const refresh = (token: string) =>
      form(`${tenantPath()}/token`, {
        grant_type: 'refresh_token',
        client_id: sim.credentials.clientId,
        refresh_token: token,
        scope: SCOPE,
      });
    const second = await refresh(first.refresh_token);
    expect(second.statusCode).toBe(200);
    expect(second.json<{ refresh_token: string }>().refresh_token).not.toBe(first.refresh_token);
    expect((await refresh(first.refresh_token)).statusCode).toBe(200);
    expect(sim.revokeRefreshTokens(USER)).toBe(3);
    const refused = await refresh(first.refresh_token);
    expect(refused.statusCode).toBe(400);
    expect(oauthError(refused)).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('permissions and device groups', () => {
  it('refuses a scan with 403 when the app token carries no Machine.Scan role', async () => {
    await start({ appRoles: ['Machine.Read.All'] });
    const [machine] = sim.machines;
    const response = await scan(sim, machine?.id ?? '');
    expect(response.statusCode).toBe(403);
    expect(errorCode(response)).toBe('Forbidden');
    expect(claimsOf(sim.issueToken())['roles']).toEqual(['Machine.Read.All']);
  });

  it('leaves out the roles claim of an app granted none, and refuses reads', async () => {
    await start({ appRoles: [] });
    expect(claimsOf(sim.issueToken())).not.toHaveProperty('roles');
    const response = await sim.app.inject({
      method: 'GET',
      url: '/api/machines',
      headers: bearer(sim.issueToken()),
    });
    expect(response.statusCode).toBe(403);
  });

  it('lets a user scan devices in their groups, answers 403 with a reason outside them, and lists only theirs', async () => {
    await start();
    const { access_token: token } = await signIn();
    const inside = sim.machines.find((m) => m.rbacGroupName === 'Servers');
    const outside = sim.machines.find((m) => m.rbacGroupName !== 'Servers');
    expect(inside && outside).toBeTruthy();
    const ok = await scan(sim, inside?.id ?? '', undefined, bearer(token));
    expect(ok.statusCode).toBe(201);
    expect(ok.json<{ requestor: string }>().requestor).toBe(USER);
    const refused = await scan(sim, outside?.id ?? '', undefined, bearer(token));
    expect(refused.statusCode).toBe(403);
    expect(refused.json<{ error: { message: string } }>().error.message).toMatch(
      /outside the user's device groups/,
    );
    const listed = await sim.app.inject({
      method: 'GET',
      url: '/api/machines',
      headers: bearer(token),
    });
    const ids = listed
      .json<{ value: { rbacGroupName: string }[] }>()
      .value.map((m) => m.rbacGroupName);
    expect(new Set(ids)).toEqual(new Set(['Servers']));
  });

  it('refuses a user without the Active remediation actions role', async () => {
    await start({ users: [{ username: USER, remediation: false }] });
    const { access_token: token } = await signIn();
    const response = await scan(sim, sim.machines[0]?.id ?? '', undefined, bearer(token));
    expect(response.statusCode).toBe(403);
    expect(response.json<{ error: { message: string } }>().error.message).toMatch(
      /Active remediation actions/,
    );
  });
});
