import { describe, expect, it } from 'vitest';
import { InvalidMachineIdError } from '../../../src/defender/errors.js';
import type { ApiCallEvent } from '../../../src/defender/call.js';
import { apiError, withApi } from './api-server.js';
import { failure, fakeGate, fakeTokens, testClient } from './fakes.js';

const ID = '0123456789abcdef0123456789abcdef01234567';
const ACTION = {
  id: '7f3a2b1c-0d4e-4f5a-8b6c-7d8e9f0a1b2c',
  type: 'RunAntiVirusScan',
  scope: 'Quick',
  status: 'Pending',
  machineId: ID,
  requestorComment: 'weekly [fleetscan:c-abc123def456]',
  creationDateTimeUtc: '2026-11-23T11:00:00Z',
  lastUpdateTimeUtc: '2026-11-23T11:00:01Z',
  somethingNew: { kept: true },
};

describe('runAntiVirusScan', () => {
  it('posts Comment and ScanType to the machine path and keeps every field of the action', async () => {
    const { gate, events } = fakeGate();
    const { tokens } = fakeTokens();
    const calls: ApiCallEvent[] = [];
    await withApi(
      (app) =>
        app.post('/api/machines/:id/runAntiVirusScan', (_req, reply) =>
          reply.code(201).send(ACTION),
        ),
      async ({ url, seen }) => {
        const api = testClient(url, { gate, tokens, onCall: (event) => calls.push(event) });
        const action = await api.runAntiVirusScan(ID.toUpperCase(), {
          comment: 'weekly',
          scanType: 'Quick',
        });
        api.close();
        expect(action).toMatchObject({
          ...ACTION,
          lastUpdateDateTimeUtc: ACTION.lastUpdateTimeUtc,
        });
        expect(seen).toEqual([
          {
            method: 'POST',
            url: `/api/machines/${ID}/runAntiVirusScan`,
            authorization: 'Bearer token-1',
            body: { Comment: 'weekly', ScanType: 'Quick' },
          },
        ]);
      },
    );
    expect(events).toEqual([
      { type: 'acquire', family: 'scan', slot: 1 },
      { type: 'settle', slot: 1 },
    ]);
    expect(calls).toEqual([
      {
        family: 'scan',
        method: 'POST',
        status: 201,
        code: undefined,
        durationMs: expect.any(Number) as number,
      },
    ]);
  });

  it('returns the action and settles the slot once when the onCall hook throws', async () => {
    const { gate, events } = fakeGate();
    const { tokens } = fakeTokens();
    await withApi(
      (app) =>
        app.post('/api/machines/:id/runAntiVirusScan', (_req, reply) =>
          reply.code(201).send(ACTION),
        ),
      async ({ url, seen }) => {
        const onCall = () => {
          throw new Error('stats store down');
        };
        const api = testClient(url, { gate, tokens, onCall });
        await expect(
          api.runAntiVirusScan(ID, { comment: 'c', scanType: 'Quick' }),
        ).resolves.toMatchObject({ id: ACTION.id });
        api.close();
        expect(seen).toHaveLength(1);
      },
    );
    expect(events).toEqual([
      { type: 'acquire', family: 'scan', slot: 1 },
      { type: 'settle', slot: 1 },
    ]);
  });

  it('uses the permit it is given instead of taking a slot', async () => {
    const { gate, events, callerPermit } = fakeGate();
    const { tokens } = fakeTokens();
    await withApi(
      (app) =>
        app.post('/api/machines/:id/runAntiVirusScan', (_req, reply) =>
          reply.code(201).send(ACTION),
        ),
      async ({ url }) => {
        const api = testClient(url, { gate, tokens });
        await api.runAntiVirusScan(
          ID,
          { comment: 'c', scanType: 'Full' },
          { permit: callerPermit() },
        );
        api.close();
      },
    );
    expect(events).toEqual([{ type: 'settle', slot: 0 }]);
  });

  it('refuses a hostile machine id before any request and gives the permit back', async () => {
    const { gate, events, callerPermit } = fakeGate();
    const { tokens, calls } = fakeTokens();
    await withApi(
      () => undefined,
      async ({ url, seen }) => {
        const api = testClient(url, { gate, tokens });
        for (const hostile of [
          '..',
          `../machineactions/${ID}`,
          '%2e%2e',
          `${ID}\r\n`,
          `${ID.slice(0, 39)}\u212a`,
        ]) {
          await expect(
            api.runAntiVirusScan(
              hostile,
              { comment: 'c', scanType: 'Quick' },
              { permit: callerPermit() },
            ),
          ).rejects.toBeInstanceOf(InvalidMachineIdError);
        }
        api.close();
        expect(seen).toEqual([]);
      },
    );
    expect(events.every((event) => event.type === 'release')).toBe(true);
    expect(events).toHaveLength(5);
    expect(calls).toEqual([]);
  });

  it('reports a busy device as later with the code, target and message', async () => {
    const { gate, events } = fakeGate();
    const { tokens } = fakeTokens();
    await withApi(
      (app) =>
        app.post('/api/machines/:id/runAntiVirusScan', (_req, reply) =>
          reply
            .code(400)
            .send(
              apiError('ActiveRequestAlreadyExists', 'Action is already in progress', 'corr-7'),
            ),
        ),
      async ({ url }) => {
        const api = testClient(url, { gate, tokens });
        const error = await failure(api.runAntiVirusScan(ID, { comment: 'c', scanType: 'Quick' }));
        api.close();
        expect(error).toMatchObject({
          status: 400,
          code: 'ActiveRequestAlreadyExists',
          retry: 'later',
          target: 'corr-7',
          apiMessage: 'Action is already in progress',
          notSent: false,
        });
      },
    );
    expect(events.map((event) => event.type)).toEqual(['acquire', 'settle']);
  });

  it('holds the family for Retry-After seconds on a 429, or the configured default without it', async () => {
    const { gate, events } = fakeGate();
    const { tokens } = fakeTokens();
    let withHeader = true;
    await withApi(
      (app) =>
        app.post('/api/machines/:id/runAntiVirusScan', (_req, reply) => {
          if (withHeader) void reply.header('retry-after', '7');
          return reply.code(429).send(apiError('TooManyRequests'));
        }),
      async ({ url }) => {
        const api = testClient(url, { gate, tokens, throttleDefaultMs: 1_234 });
        const first = await failure(api.runAntiVirusScan(ID, { comment: 'c', scanType: 'Quick' }));
        withHeader = false;
        const second = await failure(api.runAntiVirusScan(ID, { comment: 'c', scanType: 'Quick' }));
        api.close();
        expect(first).toMatchObject({ status: 429, retry: 'throttled', retryAfterMs: 7_000 });
        expect(second).toMatchObject({ status: 429, retry: 'throttled', retryAfterMs: 1_234 });
      },
    );
    expect(events.filter((event) => event.type === 'throttle')).toEqual([
      { type: 'throttle', family: 'scan', ms: 7_000 },
      { type: 'throttle', family: 'scan', ms: 1_234 },
    ]);
    expect(events.filter((event) => event.type === 'settle')).toHaveLength(2);
    // Paused before the slot leaves the calls in flight: nothing is granted in between.
    expect(events.map((event) => event.type).slice(0, 3)).toEqual([
      'acquire',
      'throttle',
      'settle',
    ]);
  });

  it('never retries a POST that got a 5xx', async () => {
    const { gate } = fakeGate();
    const { tokens } = fakeTokens();
    await withApi(
      (app) =>
        app.post('/api/machines/:id/runAntiVirusScan', (_req, reply) =>
          reply.code(503).send(apiError('ServiceUnavailable')),
        ),
      async ({ url, seen }) => {
        const api = testClient(url, { gate, tokens });
        const error = await failure(api.runAntiVirusScan(ID, { comment: 'c', scanType: 'Quick' }));
        api.close();
        expect(error).toMatchObject({ status: 503, retry: 'backoff' });
        expect(seen).toHaveLength(1);
      },
    );
  });

  it('refuses an empty comment without sending anything', async () => {
    const { gate, events, callerPermit } = fakeGate();
    const { tokens } = fakeTokens();
    const api = testClient('http://127.0.0.1:9', { gate, tokens });
    const error = await failure(
      api.runAntiVirusScan(ID, { comment: ' ', scanType: 'Quick' }, { permit: callerPermit() }),
    );
    api.close();
    expect(error).toMatchObject({
      code: 'MissingRequiredParameter',
      retry: 'never',
      notSent: true,
    });
    expect(events).toEqual([{ type: 'release', slot: 0 }]);
  });

  it('refuses a cancel without a comment without sending anything', async () => {
    const { gate, events, callerPermit } = fakeGate();
    const { tokens } = fakeTokens();
    const api = testClient('http://127.0.0.1:9', { gate, tokens });
    const error = await failure(
      api.cancelMachineAction('0b0e1d6a-5f0a-4c47-9a8e-6f5d4c3b2a19', '', {
        permit: callerPermit(),
      }),
    );
    api.close();
    expect(error).toMatchObject({
      code: 'MissingRequiredParameter',
      retry: 'never',
      notSent: true,
    });
    expect(events).toEqual([{ type: 'release', slot: 0 }]);
  });
});
