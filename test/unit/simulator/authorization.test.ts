import { describe, expect, it } from 'vitest';
import { buildSimulator } from '../../../src/simulator/build-simulator.js';
import { errorCode, fakeClock } from './sim-kit.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('bearer tokens on API calls', () => {
  it('answers 401 Unauthorized to a call without a token, with a wrong one, and with an expired one', async () => {
    const clock = fakeClock();
    const sim = await buildSimulator({ fleet: 3, now: clock.now, tokenLifetimeSec: 60 });
    try {
      const call = (authorization?: string) =>
        sim.app.inject({
          method: 'GET',
          url: '/api/machines',
          headers: authorization ? { authorization } : {},
        });
      const good = sim.issueToken();
      const [header, payload] = good.split('.');
      const forged = `${header!}.${payload!}.${Buffer.from('forged').toString('base64url')}`;
      const responses = [
        await call(),
        await call('Bearer not-a-jwt'),
        await call(`Basic ${good}`),
        await call(`Bearer ${forged}`),
      ];
      for (const r of responses) {
        expect(r.statusCode).toBe(401);
        expect(errorCode(r)).toBe('Unauthorized');
        expect(Object.keys(r.json<{ error: object }>().error).sort()).toEqual([
          'code',
          'message',
          'target',
        ]);
      }
      expect((await call(`Bearer ${good}`)).statusCode).toBe(200);
      clock.advance(60_000);
      expect((await call(`Bearer ${good}`)).statusCode).toBe(401);
      expect(sim.stats().unauthorized).toBe(5);
    } finally {
      await sim.close();
    }
  });

  it('spends no rate budget on a 401', async () => {
    const sim = await buildSimulator({ fleet: 3, rateLimits: [{ cap: 1, windowMs: 60_000 }] });
    try {
      for (let i = 0; i < 3; i++) {
        expect((await sim.app.inject({ method: 'GET', url: '/api/machines' })).statusCode).toBe(
          401,
        );
      }
      const ok = await sim.app.inject({
        method: 'GET',
        url: '/api/machines',
        headers: { authorization: `Bearer ${sim.issueToken()}` },
      });
      expect(ok.statusCode).toBe(200);
    } finally {
      await sim.close();
    }
  });
});

describe('the token endpoint', () => {
  const request = async (form: Record<string, string>, tenant?: string) => {
    const sim = await buildSimulator({ fleet: 1 });
    try {
      const { tenantId, clientId, clientSecret } = sim.credentials;
      const body = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        scope: 'https://api.securitycenter.microsoft.com/.default',
        ...form,
      });
      const r = await sim.app.inject({
        method: 'POST',
        url: `/${tenant ?? tenantId}/oauth2/v2.0/token`,
        headers: FORM,
        payload: body.toString(),
      });
      return { status: r.statusCode, body: r.json<Record<string, unknown>>() };
    } finally {
      await sim.close();
    }
  };

  it('issues a bearer token for the right secret and scope', async () => {
    const r = await request({});
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    expect(typeof r.body['access_token']).toBe('string');
  });

  it.each([
    [{ client_secret: 'wrong' }, 401, 'invalid_client'],
    [{ client_id: 'someone-else' }, 400, 'unauthorized_client'],
    [{ grant_type: 'password' }, 400, 'unsupported_grant_type'],
    [{ scope: 'https://api.securitycenter.microsoft.com/Machine.Scan' }, 400, 'invalid_scope'],
    [{ scope: 'https://management.azure.com/.default' }, 400, 'invalid_resource'],
    [
      {
        client_assertion: 'x.y.z',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      },
      400,
      'invalid_request',
    ],
  ] as const)('refuses %j with %i %s', async (form, status, error) => {
    const r = await request(form);
    expect(r.status).toBe(status);
    expect(r.body['error']).toBe(error);
    expect(String(r.body['error_description'])).toMatch(/^AADSTS\d+/);
  });

  it('refuses an unknown tenant', async () => {
    const r = await request({}, 'contoso.onmicrosoft.com');
    expect(r.status).toBe(400);
    expect(r.body['error']).toBe('invalid_tenant');
  });
});
