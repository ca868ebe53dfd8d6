import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { audited, recordAudit, type AuditSink } from '../../src/audit/record-audit.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

let redis: Redis;
let prefix: string;

beforeEach(() => {
  redis = new Redis(testRedisUrl());
  prefix = uniquePrefix('audit');
});

afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

class Refusal extends Error {}

function sink(overrides: Partial<AuditSink> = {}): AuditSink {
  return {
    log: createAuditLog(redis, prefix),
    actor: { who: 'ops@host-1', source: 'cli', from: 'host-1' },
    now: () => 1_700_000_000_000,
    isRefusal: (error) => error instanceof Refusal,
    ...overrides,
  };
}

describe('audit log', () => {
  it('records ok with the result, refused and failed with the reason, and rethrows', async () => {
    const s = sink();
    const write = { action: 'campaign.pause', target: 'c-1', detail: (r: string) => r };
    await expect(audited(s, write, () => Promise.resolve('running -> paused'))).resolves.toBe(
      'running -> paused',
    );
    await expect(
      audited(s, write, () => Promise.reject(new Refusal('Campaign c-1 is finished'))),
    ).rejects.toThrow('is finished');
    await expect(
      audited(s, write, () => Promise.reject(new Error('connection reset'))),
    ).rejects.toThrow('connection reset');
    const entries = (await s.log.list()).reverse();
    expect(entries.map(({ id: _id, ...rest }) => rest)).toEqual(
      [
        ['ok', 'running -> paused'],
        ['refused', 'Campaign c-1 is finished'],
        ['failed', 'connection reset'],
      ].map(([outcome, detail]) => ({
        at: 1_700_000_000_000,
        who: 'ops@host-1',
        source: 'cli',
        from: 'host-1',
        action: 'campaign.pause',
        target: 'c-1',
        status: null,
        outcome,
        detail,
      })),
    );
  });

  it('takes the target from the result when the write creates it', async () => {
    const s = sink();
    await audited(s, { action: 'token.create', target: (t: { id: string }) => t.id }, () =>
      Promise.resolve({ id: 'a1b2c3d4e5' }),
    );
    expect((await s.log.list())[0]).toMatchObject({ target: 'a1b2c3d4e5', status: null });
  });

  it('keeps the object id of a signed-in person, and none for everyone else', async () => {
    const oid = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    const person = sink({
      actor: { who: 'dashboard:vera@contoso.test', source: 'dashboard', from: '::1', oid },
    });
    await recordAudit(person, { action: 'campaign.pause', target: 'c-1', outcome: 'refused' });
    await recordAudit(sink(), { action: 'campaign.pause', target: 'c-1', outcome: 'ok' });
    const [cli, dashboard] = await person.log.list();
    expect(dashboard).toMatchObject({ who: 'dashboard:vera@contoso.test', oid });
    expect(cli).not.toHaveProperty('oid');
  });

  it('never fails a write because its entry could not be written', async () => {
    const unrecorded: unknown[] = [];
    const broken = sink({
      log: { ...createAuditLog(redis, prefix), record: () => Promise.reject(new Error('OOM')) },
      onUnrecorded: (error) => unrecorded.push(error),
    });
    await expect(
      audited(broken, { action: 'campaign.cancel' }, () => Promise.resolve(1)),
    ).resolves.toBe(1);
    await recordAudit(broken, { action: 'tenant.block', outcome: 'ok' });
    expect(unrecorded.map(String)).toEqual(['Error: OOM', 'Error: OOM']);
  });

  it('reads entries written before source and outcome existed: CLI status 0 is no HTTP status', async () => {
    const key = `${prefix}:audit`;
    await redis.xadd(
      key,
      '*',
      'at',
      '1',
      'who',
      'ops@h',
      'action',
      'token.create',
      'target',
      't',
      'from',
      'cli',
      'status',
      '0',
      'detail',
      'x',
    );
    await redis.xadd(
      key,
      '*',
      'at',
      '2',
      'who',
      'token:p',
      'action',
      'campaign.create',
      'target',
      '',
      'from',
      '10.0.0.9',
      'status',
      '400',
      'detail',
      '',
    );
    const [api, cli] = await createAuditLog(redis, prefix).list();
    expect(cli).toMatchObject({ source: 'cli', status: null, outcome: 'ok' });
    expect(api).toMatchObject({ source: 'api', status: 400, outcome: 'refused' });
  });
});
