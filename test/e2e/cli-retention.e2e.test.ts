import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { lifecycleKey } from '../../src/tracking/lifecycle-store.js';
import { runCli } from '../helpers/cli.js';
import { useCliFixture } from '../helpers/cli-fixture.js';
import { campaignKeysLeft, machineId, seedFinishedCampaign } from '../redis/retention-fixture.js';

let dir: string;
let prefix: string;
let env: NodeJS.ProcessEnv;
let redis: Redis;

useCliFixture('ret-cli', (t) => ({ dir, prefix, env, redis } = t));

// Run from the scratch folder: the default retention.archiveDir (`archives`) lands there.
const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  runCli(args, { env: { ...env, ...extra }, cwd: dir });

// Each CLI run is a process start (seconds on a loaded 2-core host); a test makes up to ten.
const SLOW = 180_000;

describe('fleetscan archive / prune', () => {
  it(
    'archives a finished campaign; export and status then read the archive, export byte for byte',
    async () => {
      const store = createCampaignStore(redis, prefix);
      const id = await seedFinishedCampaign(store, 250);
      const csvBefore = await cli(['export', id]);
      const ndjsonBefore = await cli(['export', id, '--format', 'ndjson']);
      expect(csvBefore.code).toBe(0);

      const archived = await cli(['archive', id]);
      expect(archived.stderr).toBe('');
      expect(archived.code).toBe(0);
      expect(archived.stdout).toMatch(
        new RegExp(`Archived campaign ${id} \\(250 devices\\) to .*archives/${id}\\.ndjson\\.gz`),
      );
      expect(archived.stdout).toContain('removed 250 device records from Redis');
      expect(readdirSync(join(dir, 'archives'))).toEqual([`${id}.ndjson.gz`]);
      expect(await campaignKeysLeft(redis, prefix, id)).toEqual([]);

      expect((await cli(['export', id])).stdout).toBe(csvBefore.stdout);
      expect((await cli(['export', id, '--format', 'ndjson'])).stdout).toBe(ndjsonBefore.stdout);
      const out = join(dir, 'out.csv');
      expect((await cli(['export', id, '--out', out])).stdout).toContain('from the archive');

      const status = await cli(['status', id, '--json']);
      expect(status.code).toBe(0);
      const parsed = JSON.parse(status.stdout) as {
        campaign: { total: number; state: string; archived: { phase: string; devices: number } };
      };
      expect(parsed.campaign).toMatchObject({ total: 250, state: 'finished' });
      expect(parsed.campaign.archived).toMatchObject({ phase: 'done', devices: 250 });
      expect((await cli(['status', id])).stdout).toMatch(/ARCHIVED .* no longer in Redis/);

      const all = await cli(['status']);
      expect(all.stdout).toContain('1 archived campaign not listed');
      const allJson = JSON.parse((await cli(['status', '--json'])).stdout) as {
        campaigns: unknown[];
        archived: { id: string }[];
      };
      expect(allJson.campaigns).toEqual([]);
      expect(allJson.archived.map((c) => c.id)).toEqual([id]);

      const again = await cli(['archive', id]);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('was already archived');
    },
    SLOW,
  );

  it(
    'reports an archived campaign as it reported it live, marked as archived',
    async () => {
      const store = createCampaignStore(redis, prefix);
      const id = await seedFinishedCampaign(store, 120);
      // What the tracker, verify and scan's target filter left: it lives beside the records.
      await redis.hset(lifecycleKey(prefix, id), {
        settledAt: '1764000100000',
        verifiedAt: '1764000200000',
        'skip:invalid': '3',
      });
      const live = await cli(['report', id, '--json']);
      expect(live.code).toBe(0);
      expect((await cli(['archive', id])).code).toBe(0);
      expect(await campaignKeysLeft(redis, prefix, id)).toEqual([]);

      const archived = await cli(['report', id, '--json']);
      expect(archived.stderr).toBe('');
      expect(archived.code).toBe(0);
      type Report = { generatedAt: string; campaign: { archived?: { file: string } } };
      const before = JSON.parse(live.stdout) as Report;
      const after = JSON.parse(archived.stdout) as Report;
      expect(after.campaign.archived?.file).toBe(`${id}.ndjson.gz`);
      const { archived: mark, ...campaign } = after.campaign;
      expect(mark).toBeDefined();
      expect({ ...after, campaign, generatedAt: '' }).toEqual({ ...before, generatedAt: '' });
      expect(before).toMatchObject({
        targets: { devices: 120, skipped: { invalid: 3 } },
        proof: { verifiedAt: new Date(1764000200000).toISOString() },
        tracking: { settledAt: new Date(1764000100000).toISOString() },
      });
      expect((await cli(['report', id])).stdout).toMatch(/\| Archived \| .*no longer in Redis/);
    },
    SLOW,
  );

  it(
    'prunes only campaigns that ended long enough ago, with a dry run first',
    async () => {
      const store = createCampaignStore(redis, prefix);
      const done = await seedFinishedCampaign(store, 30);
      const running = await seedFinishedCampaign(store, 5);
      await store.openIntake(running);

      const keep = await cli(['prune', '--json']);
      expect(keep.code).toBe(0);
      expect(JSON.parse(keep.stdout)).toMatchObject({ entries: [], kept: 2 });

      const dry = await cli(['prune', '--older-than', '0s', '--dry-run']);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(new RegExp(`${done}\\s+would-archive`));
      expect(dry.stdout).not.toContain(running);
      expect(dry.stdout).toContain('dry run: nothing changed');
      expect(await campaignKeysLeft(redis, prefix, done)).toHaveLength(3);

      const real = await cli(['prune', '--older-than', '0s', '--json']);
      expect(real.code).toBe(0);
      const result = JSON.parse(real.stdout) as {
        entries: { campaignId: string; outcome: string }[];
      };
      expect(result.entries).toEqual([
        expect.objectContaining({ campaignId: done, outcome: 'archived' }),
      ]);
      expect(await campaignKeysLeft(redis, prefix, done)).toEqual([]);
      expect(await campaignKeysLeft(redis, prefix, running)).toHaveLength(3);
    },
    SLOW,
  );

  it(
    'refuses bad input with one clear line and exit 1',
    async () => {
      const store = createCampaignStore(redis, prefix);
      const running = await seedFinishedCampaign(store, 5);
      await store.openIntake(running);
      const cases = [
        [
          ['prune', '--older-than', 'soon'],
          /--older-than must be a duration such as 30d.*got soon/,
        ],
        [['archive', running], new RegExp(`Campaign ${running} is running \\(intake open\\)`)],
        [['archive', 'c-000000000000'], /No campaign c-000000000000/],
        [['export', 'c-000000000000'], /No campaign "c-000000000000"/],
      ] as const;
      for (const [args, message] of cases) {
        const result = await cli([...args]);
        expect(result.code, args.join(' ')).toBe(1);
        expect(result.stderr).toMatch(message);
      }
      expect(await campaignKeysLeft(redis, prefix, running)).toHaveLength(3);
    },
    SLOW,
  );

  it(
    'documents both commands with examples',
    async () => {
      for (const command of ['archive', 'prune']) {
        const help = await cli([command, '--help']);
        expect(help.code).toBe(0);
        expect(help.stdout).toContain(`fleetscan ${command}`);
        expect(help.stdout).toContain('Examples:');
        expect(help.stdout).toContain('--json');
      }
    },
    SLOW,
  );

  it(
    'scan refuses a campaign Redis has no room for, before creating anything',
    async () => {
      writeFileSync(
        join(dir, 'devices.txt'),
        `${Array.from({ length: 50 }, (_, i) => machineId(i + 1)).join('\n')}\n`,
      );
      // With no room left at all (refuseAt far below what Redis already uses), any campaign is refused.
      writeFileSync(join(dir, 'tight.yaml'), 'retention:\n  memory:\n    refuseAt: 0.000000001\n');
      const refused = await cli([
        '--config',
        join(dir, 'tight.yaml'),
        'scan',
        '--devices',
        'devices.txt',
        '--comment',
        'weekly',
      ]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/Refused: this campaign has more than 0 devices/);
      expect(refused.stderr).toContain('Nothing was created or queued');
      expect(await redis.zcard(`${prefix}:campaigns`)).toBe(0);
      // Only the audit log's record of the refusal.
      expect(await redis.keys(`${prefix}:*`)).toEqual([`${prefix}:audit`]);
      const [entry] = await redis.xrange(`${prefix}:audit`, '-', '+');
      expect(entry?.[1].join(' ')).toMatch(/action campaign\.create .*outcome refused/);

      const fits = await cli(['scan', '--devices', 'devices.txt', '--comment', 'weekly', '--json']);
      expect(fits.stderr).toBe('');
      expect(JSON.parse(fits.stdout)).toMatchObject({ accepted: 50 });
    },
    SLOW,
  );
});
