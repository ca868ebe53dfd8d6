import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../../src/auth/token-provider.js';
import { TokenError } from '../../../src/auth/token-error.js';
import { apiError, closedPort, withApi } from './api-server.js';
import { failure, fakeGate, fakeTokens, testClient } from './fakes.js';

const ID = '0123456789abcdef0123456789abcdef01234567';
const ACTION = {
  id: '7f3a2b1c-0d4e-4f5a-8b6c-7d8e9f0a1b2c',
  type: 'RunAntiVirusScan',
  status: 'Pending',
  machineId: ID,
  creationDateTimeUtc: '2026-11-23T11:00:00Z',
};
const SCAN = { comment: 'c', scanType: 'Quick' } as const;

/** Accepts a bearer token only from the `valid`-th generation on. */
function scanRoute(validFrom: number) {
  return (app: import('fastify').FastifyInstance) =>
    app.post('/api/machines/:id/runAntiVirusScan', (req, reply) => {
      const generation = Number(/token-(\d+)/.exec(req.headers.authorization ?? '')?.[1] ?? 0);
      if (generation < validFrom) return reply.code(401).send(apiError('Unauthorized', 'expired'));
      return reply.code(201).send(ACTION);
    });
}

describe('a 401 from the API', () => {
  it('refreshes the token once and tries again on a new slot', async () => {
    const { gate, events } = fakeGate();
    const { tokens, calls } = fakeTokens();
    await withApi(scanRoute(2), async ({ url, seen }) => {
      const api = testClient(url, { gate, tokens });
      await expect(api.runAntiVirusScan(ID, SCAN)).resolves.toMatchObject({ id: ACTION.id });
      api.close();
      expect(seen.map((request) => request.authorization)).toEqual([
        'Bearer token-1',
        'Bearer token-2',
      ]);
    });
    expect(calls).toEqual([
      { forceRefresh: false },
      { forceRefresh: true },
      { forceRefresh: false },
    ]);
    expect(events.map((event) => event.type)).toEqual(['acquire', 'settle', 'acquire', 'settle']);
  });

  it('fails with never after the second 401', async () => {
    const { gate } = fakeGate();
    const { tokens, calls } = fakeTokens();
    await withApi(scanRoute(99), async ({ url, seen }) => {
      const api = testClient(url, { gate, tokens });
      const error = await failure(api.runAntiVirusScan(ID, SCAN));
      api.close();
      expect(error).toMatchObject({ status: 401, code: 'Unauthorized', retry: 'never' });
      expect(seen).toHaveLength(2);
    });
    expect(calls.filter((call) => call.forceRefresh)).toHaveLength(1);
  });

  it('fails at once with a static token, which cannot be refreshed', async () => {
    const { gate } = fakeGate();
    await withApi(scanRoute(99), async ({ url, seen }) => {
      const api = testClient(url, { gate, tokens: staticTokenProvider('token-0') });
      const error = await failure(api.runAntiVirusScan(ID, SCAN));
      api.close();
      expect(error).toMatchObject({ status: 401, code: 'Unauthorized', retry: 'never' });
      expect(error.cause).toBeInstanceOf(TokenError);
      expect(seen).toHaveLength(1);
    });
  });
});

describe('failures without a reply', () => {
  it('gives the slot back when no token could be had', async () => {
    const { gate, events, callerPermit } = fakeGate();
    const { tokens } = fakeTokens({
      failWith: new TokenError('network_error', 'no route', { transient: true }),
    });
    const api = testClient('http://127.0.0.1:9', { gate, tokens });
    const error = await failure(api.runAntiVirusScan(ID, SCAN, { permit: callerPermit() }));
    api.close();
    expect(error).toMatchObject({
      status: 0,
      code: 'network_error',
      retry: 'backoff',
      notSent: true,
    });
    expect(events).toEqual([{ type: 'release', slot: 0 }]);
  });

  it('gives the slot back when the token does not come within the timeout', async () => {
    const { gate, events } = fakeGate();
    const tokens = {
      kind: 'secret' as const,
      getToken: () => new Promise<string>(() => undefined),
    };
    const api = testClient('http://127.0.0.1:9', { gate, tokens, timeoutMs: 100 });
    const error = await failure(api.runAntiVirusScan(ID, SCAN));
    api.close();
    expect(error).toMatchObject({
      status: 0,
      code: 'token_timeout',
      retry: 'backoff',
      notSent: true,
    });
    expect(events.map((event) => event.type)).toEqual(['acquire', 'release']);
  });

  it('fails with never when the credentials are rejected', async () => {
    const { gate } = fakeGate();
    const { tokens } = fakeTokens({ failWith: new TokenError('invalid_client', 'AADSTS7000215') });
    const api = testClient('http://127.0.0.1:9', { gate, tokens });
    await expect(failure(api.runAntiVirusScan(ID, SCAN))).resolves.toMatchObject({
      retry: 'never',
      notSent: true,
    });
    api.close();
  });

  it('settles the slot and says backoff when the socket is destroyed after the request (lost reply)', async () => {
    const { gate, events } = fakeGate();
    const { tokens } = fakeTokens();
    await withApi(
      (app) =>
        app.post('/api/machines/:id/runAntiVirusScan', (req) => {
          req.raw.socket.destroy();
        }),
      async ({ url, seen }) => {
        const api = testClient(url, { gate, tokens });
        const error = await failure(api.runAntiVirusScan(ID, SCAN));
        api.close();
        expect(error).toMatchObject({
          status: 0,
          code: 'ECONNRESET',
          retry: 'backoff',
          notSent: false,
        });
        expect(seen).toHaveLength(1);
      },
    );
    expect(events.map((event) => event.type)).toEqual(['acquire', 'settle']);
  });

  it('says backoff for a 502 from a gateway that lost the reply', async () => {
    const { gate } = fakeGate();
    const { tokens } = fakeTokens();
    await withApi(
      (app) =>
        app.post('/api/machines/:id/runAntiVirusScan', (_req, reply) =>
          reply.code(502).type('text/html').send('<html>Bad Gateway</html>'),
        ),
      async ({ url }) => {
        const api = testClient(url, { gate, tokens });
        await expect(failure(api.runAntiVirusScan(ID, SCAN))).resolves.toMatchObject({
          status: 502,
          code: 'BadGateway',
          retry: 'backoff',
        });
        api.close();
      },
    );
  });

  it('times out a reply that never comes, and settles the slot', async () => {
    const { gate, events } = fakeGate();
    const { tokens } = fakeTokens();
    await withApi(
      (app) => app.post('/api/machines/:id/runAntiVirusScan', () => new Promise(() => undefined)),
      async ({ url }) => {
        // Not shorter: the connect phase shares this limit, and a connect that timed out on a
        // busy machine would rightly release the slot instead of settling it.
        const api = testClient(url, { gate, tokens, timeoutMs: 1_000 });
        const error = await failure(api.runAntiVirusScan(ID, SCAN));
        api.close();
        expect(error).toMatchObject({
          status: 0,
          code: 'ETIMEDOUT',
          retry: 'backoff',
          notSent: false,
        });
      },
    );
    expect(events.map((event) => event.type)).toEqual(['acquire', 'settle']);
  });

  it('releases the slot when the connection is refused', async () => {
    const port = await closedPort();
    const { gate, events } = fakeGate();
    const { tokens } = fakeTokens();
    const api = testClient(`http://127.0.0.1:${port}`, { gate, tokens });
    const error = await failure(api.runAntiVirusScan(ID, SCAN));
    api.close();
    expect(error).toMatchObject({
      status: 0,
      code: 'ECONNREFUSED',
      retry: 'backoff',
      notSent: true,
    });
    expect(events.map((event) => event.type)).toEqual(['acquire', 'release']);
  });

  it('keeps the bearer token out of a network error, even when it is inspected', async () => {
    const { gate } = fakeGate();
    const canary = 'token-canary-5f1e';
    const tokens = staticTokenProvider(canary);
    const refused = testClient(`http://127.0.0.1:${await closedPort()}`, { gate, tokens });
    const errors = [await failure(refused.runAntiVirusScan(ID, SCAN))];
    refused.close();
    await withApi(
      (app) =>
        app.post('/api/machines/:id/runAntiVirusScan', (req) => {
          req.raw.socket.destroy();
        }),
      async ({ url }) => {
        const api = testClient(url, { gate, tokens });
        errors.push(await failure(api.runAntiVirusScan(ID, SCAN)));
        api.close();
      },
    );
    expect(errors.map((error) => error.code)).toEqual(['ECONNREFUSED', 'ECONNRESET']);
    for (const error of errors) {
      expect(inspect(error, { depth: 10 })).not.toContain(canary);
      expect(error.cause).toBeInstanceOf(Error);
    }
  });

  it('says backoff for a success whose body cannot be read', async () => {
    const { gate } = fakeGate();
    const { tokens } = fakeTokens();
    await withApi(
      (app) =>
        app.post('/api/machines/:id/runAntiVirusScan', (_req, reply) =>
          reply.code(201).type('application/json').send('{"id":'),
        ),
      async ({ url }) => {
        const api = testClient(url, { gate, tokens });
        await expect(failure(api.runAntiVirusScan(ID, SCAN))).resolves.toMatchObject({
          status: 201,
          code: 'InvalidResponse',
          retry: 'backoff',
        });
        api.close();
      },
    );
  });
});
