import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { runCli, spawnCli, waitForOutput } from '../helpers/cli.js';
import { useCliFixture } from '../helpers/cli-fixture.js';
import { seedCampaign } from '../redis/dashboard-fixture.js';

let prefix: string;
let env: NodeJS.ProcessEnv;
let redis: Redis;

useCliFixture('cliapi', (t) => ({ prefix, env, redis } = t), { logLevel: 'info' });

const cli = (args: string[]) => runCli(args, { env });

describe('fleetscan token, api and retry', () => {
  it('creates a token shown once, serves the API with it, and refuses it once revoked', async () => {
    const created = await cli(['token', 'create', '--name', 'soar', '--scope', 'write', '--json']);
    expect(created.code).toBe(0);
    const { token, id, scopes } = JSON.parse(created.stdout) as {
      token: string;
      id: string;
      scopes: string[];
    };
    expect(token).toMatch(/^fst_[0-9a-f]{10}_/);
    expect(scopes).toEqual(['write']);
    const listed = await cli(['token', 'list', '--json']);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).not.toContain(token.slice(`fst_${id}_`.length));
    expect((await cli(['token', 'create', '--name', 'soar'])).code).toBe(1);
    expect((await cli(['token', 'create', '--name', 'x', '--scope', 'admin'])).stderr).toMatch(
      /--scope must be read or write/,
    );

    const server = spawnCli(['api', '--port', '0'], { env });
    try {
      let address = '';
      await waitForOutput(server, (text) => {
        address = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1] ?? '';
        return address !== '';
      });
      const get = () =>
        fetch(`${address}/api/v1/campaigns`, { headers: { authorization: `Bearer ${token}` } });
      expect((await get()).status).toBe(200);
      expect((await cli(['token', 'revoke', 'soar'])).code).toBe(0);
      const refused = await get();
      expect(refused.status).toBe(401);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      // The refusal is audited once the answer has gone out: wait for it before stopping the server.
      const deadline = Date.now() + 10_000;
      const refusals = async () =>
        (await createAuditLog(redis, prefix).list()).filter((e) => e.status === 401);
      while ((await refusals()).length === 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      server.child.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);
    }
    const all = await createAuditLog(redis, prefix).list();
    const audit = all.filter((e) => e.source === 'cli');
    // The second `create --name soar` was refused: audited too, with why.
    expect(audit.map((e) => [e.action, e.outcome, e.status])).toEqual([
      ['token.revoke', 'ok', null],
      ['token.create', 'refused', null],
      ['token.create', 'ok', null],
    ]);
    expect(audit[1]?.detail).toMatch(/soar/);
    expect(audit.filter((e) => e.outcome === 'ok').every((e) => e.target === id)).toBe(true);
    // The refused request with the revoked token is there too (issue 27: refusals are audited).
    expect(all.filter((e) => e.source !== 'cli')).toMatchObject([
      { who: 'address:127.0.0.1', action: 'GET /api/v1/campaigns', status: 401 },
    ]);
  });

  it('retries the failed devices of one reason and says how many', async () => {
    const store = createCampaignStore(redis, prefix);
    const seeded = await seedCampaign(store, {
      name: 'with failures',
      total: 6,
      requested: 2,
      failed: 4,
      deferred: 0,
    });
    await store.closeIntake(seeded.id);
    const retried = await cli(['retry', seeded.id, '--reason', 'ResourceNotFound', '--json']);
    expect(retried.code).toBe(0);
    const result = JSON.parse(retried.stdout) as {
      requeued: number;
      lookupFirst: number;
      byReason: Record<string, number>;
      state: string;
    };
    expect(result).toMatchObject({
      requeued: 2,
      lookupFirst: 2,
      byReason: { ResourceNotFound: 2 },
    });
    expect(result.state).toBe('running');
    const campaign = await store.getCampaign(seeded.id);
    expect(campaign?.counts).toMatchObject({ queued: 2, failed: 2 });
    expect(campaign?.failuresByReason).toEqual({ 'OsPlatformNotSupported: <b>macOS 10</b>': 2 });

    // OsPlatformNotSupported is permanent: a plain retry leaves it, naming how to force it.
    const plain = await cli(['retry', seeded.id]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('no failed devices to retry');
    expect(plain.stdout).toContain(
      'Left failed, a retry cannot change them: 2 OsPlatformNotSupported (retry them anyway with --reason OsPlatformNotSupported)',
    );
    expect((await store.getCampaign(seeded.id))?.counts).toMatchObject({ failed: 2 });
    const bogus = await cli(['retry', seeded.id, '--reason', 'Bogus']);
    expect(bogus.code).toBe(1);
    expect(bogus.stderr).toContain(
      `No failed device of campaign ${seeded.id} has the code Bogus; codes present: OsPlatformNotSupported (2)`,
    );
    const forced = await cli(['retry', seeded.id, '--reason', 'OsPlatformNotSupported', '--json']);
    expect(JSON.parse(forced.stdout)).toMatchObject({ requeued: 2, skipped: {} });

    const unknown = await cli(['retry', 'c-000000000000']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No campaign c-000000000000/);
    expect((await cli(['retry', '--help'])).stdout).toMatch(/--reason/);
  });
});
