import { describe, expect, it } from 'vitest';
import { judgeIdempotency, requestFingerprint } from '../../../src/api/idempotency-store.js';
import { parseNdjsonDevices } from '../../../src/api/ndjson-devices.js';
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
    const source = checkDeviceIds([id, 'B'.repeat(40)]);
    const chunks: string[][] = [];
    for await (const chunk of source.chunks) chunks.push(chunk);
    expect(chunks).toEqual([[id, 'b'.repeat(40)]]);
  });

  it('refuses the whole list for one id that is not exact, naming where and escaping it', () => {
    const attempt = () => checkDeviceIds([id, ` ${id}`, `${id}\u202e`, 'K'.repeat(40)]);
    expect(attempt).toThrow(ApiProblem);
    try {
      attempt();
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
  it('reads strings and objects, skips blank lines, and takes options from the query', () => {
    const body = parseNdjsonDevices(
      '"a"\n{"machineId":"b"}\n\n{"deviceId":"c"}\n{"id":"d"}\n42\n',
      {
        comment: 'x',
        priority: 'urgent',
        windowStart: '22:00',
        windowEnd: '06:00',
      },
    );
    expect(body).toEqual({
      devices: ['a', 'b', 'c', 'd', '42'],
      comment: 'x',
      priority: 'urgent',
      window: { start: '22:00', end: '06:00', tz: 'UTC' },
    });
  });

  it('names the line that is not JSON', () => {
    expect(() => parseNdjsonDevices('"a"\n{oops\n', {})).toThrow(/line 2 is not JSON/);
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
