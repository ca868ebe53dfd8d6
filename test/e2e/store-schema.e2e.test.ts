import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { keyLayoutKey } from '../../src/ops/key-layout.js';
import { STORE_SCHEMA } from '../../src/ops/store-schema.js';
import { cliTestEnv, ensureBuilt, runCli } from '../helpers/cli.js';
import { writeLayout1Campaign } from '../helpers/layout1-store.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix('schema-cli');
const env = cliTestEnv(prefix);
let redis: Redis;
let campaignId: string;

beforeAll(async () => {
  await ensureBuilt();
  redis = new Redis(testRedisUrl());
  // A store as the layout-1 version left it: a running campaign under the untagged names.
  campaignId = await writeLayout1Campaign(redis, prefix);
}, 240_000);

afterAll(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

describe('store schema versions across the CLI', () => {
  it('refuses writes to an older store until `fleetscan migrate`, which is safe to run twice', async () => {
    const refused = await runCli(['pause', campaignId], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('written by an older fleetscan');
    expect(refused.stderr).toContain('Run `fleetscan migrate` once');
    // Reads still work, and say so in doctor.
    expect((await runCli(['status', '--json'], { env })).code).toBe(0);
    const doctor = await runCli(['doctor', '--json'], { env });
    const schemaCheck = (
      JSON.parse(doctor.stdout) as { checks: { id: string; status: string }[] }
    ).checks.find((c) => c.id === 'redis.schema');
    expect(schemaCheck?.status).toBe('fail');

    const keysBefore = (await redis.keys(`${prefix}:*`)).sort();
    const plan = await runCli(['migrate', '--dry-run', '--json'], { env });
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({ from: 1, to: STORE_SCHEMA, dryRun: true });
    expect((await redis.keys(`${prefix}:*`)).sort()).toEqual(keysBefore);

    const done = await runCli(['migrate', '--json'], { env });
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ from: 1, to: STORE_SCHEMA, dryRun: false });
    const again = await runCli(['migrate'], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing to do');

    const paused = await runCli(['pause', campaignId], { env });
    expect(paused.code, paused.stderr).toBe(0);
    const audit = await createAuditLog(redis, prefix).list({ limit: 50 });
    expect(audit.filter((e) => e.action === 'store.migrate')).toHaveLength(2);
  });

  it('stops every command and a worker on a store written by a newer version, changing nothing', async () => {
    await redis.set(keyLayoutKey(prefix), String(STORE_SCHEMA + 1));
    const keysBefore = (await redis.keys(`${prefix}:*`)).sort();
    const status = await runCli(['status'], { env });
    expect(status.code).toBe(1);
    expect(status.stderr).toContain(
      `The Redis store has layout ${String(STORE_SCHEMA + 1)}, written by a newer fleetscan`,
    );
    const worker = await runCli(['worker'], { env, timeoutMs: 60_000 });
    expect(worker.code).not.toBe(0);
    expect(worker.stdout + worker.stderr).toContain('written by a newer fleetscan');
    const migrate = await runCli(['migrate'], { env });
    expect(migrate.code).toBe(1);
    expect((await redis.keys(`${prefix}:*`)).sort()).toEqual(keysBefore);
    expect(await redis.get(keyLayoutKey(prefix))).toBe(String(STORE_SCHEMA + 1));
  });
});
