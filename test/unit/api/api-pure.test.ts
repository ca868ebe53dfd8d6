import { describe, expect, it } from 'vitest';
import { judgeIdempotency, requestFingerprint } from '../../../src/api/idempotency-store.js';
import { parseNdjsonDevices } from '../../../src/api/ndjson-devices.js';
import { BODY_LIMITS } from '../../../src/api/bounded-json.js';
import { ApiProblem, kindForStatus } from '../../../src/api/problem.js';
import { checkDeviceIds } from '../../../src/api/routes/campaign-sources.js';
import { allowsTenant, hasScope } from '../../../src/api/tokens/token-store.js';
import { reasonCode } from '../../../src/control/retry-failed.js';

const ANSWER = { status: 201, contentType: 'application/json', body: '{}' };

describe('idempotency verdicts', () => {
  it.each([
    ['a new key', null, 'f1', { kind: 'new' }],
    [
      'the same request, answered',
      { fingerprint: 'f1', state: 'done', answer: ANSWER },
      'f1',
      { kind: 'replay', answer: ANSWER },
    ],
    [
      'the same request, still running',
      { fingerprint: 'f1', state: 'pending' },
      'f1',
      { kind: 'conflict', reason: 'in-progress' },
    ],
    [
      'another request under the key',
      { fingerprint: 'f1', state: 'done', answer: ANSWER },
      'f2',
      { kind: 'conflict', reason: 'different-request' },
    ],
  ] as const)('%s', (_name, stored, fingerprint, verdict) => {
    expect(judgeIdempotency(stored, fingerprint)).toEqual(verdict);
  });

  it('tells requests apart by method, URL and body', () => {
    const base = requestFingerprint('POST', '/api/v1/campaigns', '{"a":1}');
    expect(requestFingerprint('POST', '/api/v1/campaigns', '{"a":1}')).toBe(base);
    expect(requestFingerprint('POST', '/api/v1/campaigns?x=1', '{"a":1}')).not.toBe(base);
    expect(requestFingerprint('POST', '/api/v1/campaigns', '{"a":2}')).not.toBe(base);
  });
});

describe('token scopes', () => {
  it.each([
    [['read'], 'read', true],
    [['read'], 'write', false],
    [['write'], 'read', true],
    [['write'], 'write', true],
  ] as const)('%j may %s: %s', (scopes, needed, expected) => {
    expect(hasScope(scopes, needed)).toBe(expected);
  });

  it('limits a token to its tenants', () => {
    expect(allowsTenant({ tenants: null }, 'any')).toBe(true);
    expect(allowsTenant({ tenants: ['a'] }, 'a')).toBe(true);
    expect(allowsTenant({ tenants: ['a'] }, 'b')).toBe(false);
  });
});

describe('device ids from a request', () => {
  const id = 'a'.repeat(40);

  it('accepts machine ids, upper-case hex folded', async () => {
    const source = await checkDeviceIds([id, 'B'.repeat(40)]);
    const chunks: string[][] = [];
    for await (const chunk of source.chunks) chunks.push(chunk);
    expect(chunks).toEqual([[id, 'b'.repeat(40)]]);
  });

  it('refuses the whole list for one id that is not exact, naming where and escaping it', async () => {
    const attempt = () => checkDeviceIds([id, ` ${id}`, `${id}\u202e`, 'K'.repeat(40)]);
    await expect(attempt()).rejects.toThrow(ApiProblem);
    try {
      await attempt();
    } catch (error) {
      const problem = (error as ApiProblem).toProblem();
      expect(problem.status).toBe(400);
      expect(problem.errors?.map((e) => e.where)).toEqual([
        'body.devices[1]',
        'body.devices[2]',
        'body.devices[3]',
      ]);
      expect(problem.errors?.[1]?.message).toContain('\\u{202e}');
    }
  });
});

describe('NDJSON device lists', () => {
  const ids = ['a', 'b', 'c', 'd'].map((c) => c.repeat(40));

  it('reads strings and objects, skips blank lines, and takes options from the query', async () => {
    const body = await parseNdjsonDevices(
      `"${ids[0]!}"\n{"machineId":"${ids[1]!}"}\n\n{"deviceId":"${ids[2]!.toUpperCase()}"}\n{"id":"${ids[3]!}"}\n`,
      {
        comment: 'x',
        priority: 'urgent',
        windowStart: '22:00',
        windowEnd: '06:00',
      },
    );
    expect(body).toEqual({
      devices: ids,
      comment: 'x',
      priority: 'urgent',
      window: { start: '22:00', end: '06:00', tz: 'UTC' },
    });
  });

  it('names the line that is not JSON', async () => {
    await expect(parseNdjsonDevices(`"${ids[0]!}"\n{oops\n`, {})).rejects.toThrow(
      /line 2 is not JSON/,
    );
  });

  it('refuses ids that are not machine ids by line, counting them all', async () => {
    const attempt = parseNdjsonDevices(`"${ids[0]!}"\n42\n{}\n{"machineId":"x\u202e"}\n`, {});
    const problem = await attempt.then(
      () => undefined,
      (error: unknown) => (error as ApiProblem).toProblem(),
    );
    expect(problem?.type).toMatch(/invalid-devices$/);
    expect(problem?.detail).toBe(
      '3 of 4 device ids are not machine ids (40 hex characters); nothing was created.',
    );
    expect(problem?.errors?.map((e) => e.where)).toEqual([
      'NDJSON line 2',
      'NDJSON line 3',
      'NDJSON line 4',
    ]);
    expect(problem?.errors?.[2]?.message).toContain('\\u{202e}');
  });

  it('refuses a line longer than the limit and more lines than the limit', async () => {
    const limits = { ...BODY_LIMITS, maxLineChars: 100, maxLines: 3 };
    await expect(parseNdjsonDevices(`"${'a'.repeat(200)}"\n`, {}, limits)).rejects.toThrow(
      'NDJSON line 1 is longer than 100 bytes',
    );
    await expect(parseNdjsonDevices(`"${ids[0]!}"\n`.repeat(4), {}, limits)).rejects.toThrow(
      'The NDJSON body has more than 3 lines',
    );
  });
});

describe('problems and reasons', () => {
  it.each([
    [413, 'payload-too-large'],
    [415, 'unsupported-media-type'],
    [418, 'invalid-request'],
    [504, 'internal'],
  ] as const)('status %i is a %s problem', (status, kind) => {
    expect(kindForStatus(status)).toBe(kind);
  });

  it.each([
    ['ResourceNotFound: Machine x was not found.', 'ResourceNotFound'],
    ['pending-timeout', 'pending-timeout'],
    [null, 'unknown'],
  ] as const)('the code of %j is %s', (reason, code) => {
    expect(reasonCode(reason)).toBe(code);
  });
});
