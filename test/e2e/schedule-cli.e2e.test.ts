import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

let dir: string;
let prefix: string;
let redis: Redis;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-schedcli-'));
  prefix = uniquePrefix('schedcli');
  redis = new Redis(testRedisUrl());
  env = {
    REDIS_URL: testRedisUrl(),
    FLEETSCAN_PREFIX: prefix,
    FLEETSCAN_BUDGET_PREFIX: prefix,
    LOG_LEVEL: 'warn',
  };
  writeFileSync(join(dir, 'ids.txt'), `${'a'.repeat(40)}\n${'b'.repeat(40)}\n`);
});

afterEach(async () => {
  rmSync(dir, { recursive: true, force: true });
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

const cli = (...args: string[]) => runCli(args, { env, cwd: dir });
const json = async (...args: string[]) => {
  const result = await cli(...args, '--json');
  if (result.code !== 0) throw new Error(`${args.join(' ')}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown> & Record<number, unknown>;
};

// Every step is a real CLI process: seconds each on a loaded machine.
const SLOW = 300_000;

describe('fleetscan schedule commands', () => {
  it(
    'adds, lists, pauses with a note, resumes, triggers, shows history and removes',
    async () => {
      const added = await json(
        'schedule',
        'add',
        'nightly',
        '--cron',
        '30 2 * * *',
        '--tz',
        'Europe/Berlin',
        '--devices',
        'ids.txt',
        '--comment',
        'Nightly',
        '--window',
        '01:00-06:00',
      );
      expect(added).toMatchObject({
        created: true,
        spec: {
          targets: { devices: join(dir, 'ids.txt') },
          window: { start: '01:00', end: '06:00', tz: 'Europe/Berlin' },
        },
      });

      const again = await cli(
        'schedule',
        'add',
        'nightly',
        '--cron',
        '0 1 * * *',
        '--all',
        '--comment',
        'x',
      );
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/schedule named "nightly" exists/);

      const bad = await cli(
        'schedule',
        'add',
        'bad',
        '--cron',
        '0 25 * * *',
        '--all',
        '--comment',
        'x',
      );
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/cron: Invalid cron expression "0 25 \* \* \*"/);

      const list = (await json('schedule', 'list')) as unknown as {
        name: string;
        nextFire: { local: string };
      }[];
      expect(list.map((s) => s.name)).toEqual(['nightly']);
      expect(list[0]?.nextFire.local).toMatch(/ 02:30 Europe\/Berlin$/);

      await json('schedule', 'pause', 'nightly', '--note', 'change freeze');
      expect(await json('schedule', 'show', 'nightly')).toMatchObject({
        paused: true,
        note: 'change freeze',
      });
      expect((await cli('schedule', 'list')).stdout).toMatch(/paused: change freeze/);
      await json('schedule', 'resume', 'nightly');
      expect(await json('schedule', 'show', 'nightly')).toMatchObject({
        paused: false,
        note: null,
      });

      const fired = await json('schedule', 'trigger', 'nightly');
      expect(fired).toMatchObject({ outcome: 'started', manual: true, counts: { queued: 2 } });
      const campaign = await createCampaignStore(redis, prefix).getCampaign(
        String(fired['campaignId']),
      );
      expect(campaign).toMatchObject({ schedule: 'nightly', priority: 'background', total: 2 });
      expect(campaign?.comment).toMatch(/^Nightly \(schedule nightly\) \[fleetscan:/);

      const overlapping = await cli('schedule', 'trigger', 'nightly');
      expect(overlapping.code).toBe(1);
      expect(overlapping.stderr).toMatch(/still has queued or deferred devices \(overlap skip\)/);

      const history = (await json('schedule', 'history', 'nightly')) as unknown as {
        outcome: string;
        campaign: { state: string; total: number; counts: { queued: number } } | null;
      }[];
      expect(history.map((r) => r.outcome)).toEqual(['started']);
      expect(history[0]?.campaign).toMatchObject({
        state: 'running',
        total: 2,
        counts: { queued: 2 },
      });

      await json('schedule', 'remove', 'nightly');
      expect(await json('schedule', 'list')).toEqual([]);
      const missing = await cli('schedule', 'show', 'nightly');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/No schedule "nightly"/);
    },
    SLOW,
  );

  it(
    'says the same next fire in add and show, jitter included, and durations as written',
    async () => {
      const added = await cli(
        'schedule',
        'add',
        'nightly',
        '--cron',
        '30 2 * * *',
        '--tz',
        'UTC',
        '--all',
        '--comment',
        'x',
        '--jitter',
        '10m',
        '--catchup',
        '1h',
      );
      expect(added.code, added.stderr).toBe(0);
      expect(added.stdout).toContain('Catch-up 1h 00m, jitter 10m.');
      const fire = /Next fire \(jitter included\): (\S+ \S+ UTC)/.exec(added.stdout)?.[1];
      expect(fire).toBeDefined();
      const shown = await cli('schedule', 'show', 'nightly');
      expect(shown.stdout).toContain('catch-up 1h 00m, jitter 10m,');
      expect(shown.stdout).toContain(`Next fires (jitter included): ${fire!} (`);
      expect(shown.stdout).not.toMatch(/3600s|600s/);
    },
    SLOW,
  );

  it(
    'applies a YAML file: dry-run diff, then changes, then nothing the second time',
    async () => {
      await json('schedule', 'add', 'old', '--cron', '0 1 * * *', '--all', '--comment', 'x');
      await json('schedule', 'add', 'keep', '--cron', '0 1 * * *', '--all', '--comment', 'x');
      const file = join(dir, 'schedules.yaml');
      writeFileSync(
        file,
        [
          'schedules:',
          '  - { name: keep, cron: "0 3 * * *", comment: x, all: true }',
          '  - { name: new, cron: "0 4 * * 1-5", tz: America/New_York, comment: y, tags: [Servers], overlap: buffer-one }',
        ].join('\n'),
      );
      const dry = await json('schedule', 'apply', 'schedules.yaml', '--dry-run');
      expect(dry).toMatchObject({
        dryRun: true,
        changes: [
          {
            name: 'keep',
            action: 'update',
            fields: [{ field: 'cron', before: '"0 1 * * *"', after: '"0 3 * * *"' }],
          },
          { name: 'new', action: 'create' },
          { name: 'old', action: 'remove' },
        ],
      });
      const dryText = await cli('schedule', 'apply', 'schedules.yaml', '--dry-run');
      expect(dryText.stdout).toMatch(
        /~ keep\n {4}cron: "0 1 \* \* \*" → "0 3 \* \* \*"\n\+ new \(create\)\n- old \(remove\)/,
      );
      expect(
        ((await json('schedule', 'list')) as unknown as { name: string }[]).map((s) => s.name),
      ).toEqual(['keep', 'old']);

      expect(await json('schedule', 'apply', 'schedules.yaml')).toMatchObject({ dryRun: false });
      expect(
        ((await json('schedule', 'list')) as unknown as { name: string }[]).map((s) => s.name),
      ).toEqual(['keep', 'new']);
      expect(await json('schedule', 'apply', 'schedules.yaml')).toMatchObject({ changes: [] });
      expect((await cli('schedule', 'apply', 'schedules.yaml')).stdout).toMatch(/already match/);

      writeFileSync(file, 'schedules:\n  - { name: broken, cron: "0 3 * * *", comment: x }\n');
      const refused = await cli('schedule', 'apply', 'schedules.yaml');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/schedules\[0\] \(broken\): name the devices/);
      expect(
        ((await json('schedule', 'list')) as unknown as { name: string }[]).map((s) => s.name),
      ).toEqual(['keep', 'new']);
    },
    SLOW,
  );

  it(
    'stores a --window on an ad-hoc scan and refuses a malformed one',
    async () => {
      const started = await json(
        'scan',
        '--devices',
        'ids.txt',
        '--comment',
        'x',
        '--window',
        '22:00-05:00 Europe/Berlin',
      );
      const campaign = await createCampaignStore(redis, prefix).getCampaign(
        String(started['campaignId']),
      );
      expect(campaign?.window).toEqual({ start: '22:00', end: '05:00', tz: 'Europe/Berlin' });
      expect(started['window']).toEqual(campaign?.window);
      const bad = await cli(
        'scan',
        '--devices',
        'ids.txt',
        '--comment',
        'x',
        '--window',
        '25:00-01:00',
      );
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/--window: Expected a window such as 22:00-05:30/);
    },
    SLOW,
  );

  it(
    'has help with an example for every schedule command',
    async () => {
      for (const sub of [
        'add',
        'list',
        'show',
        'pause',
        'resume',
        'trigger',
        'remove',
        'history',
        'apply',
      ]) {
        const help = await cli('schedule', sub, '--help');
        expect(help.code).toBe(0);
        expect(help.stdout).toMatch(/Example/);
        expect(help.stdout).toMatch(/--json/);
      }
    },
    SLOW,
  );
});
