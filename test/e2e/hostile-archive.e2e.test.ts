import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { createArchiveIndex } from '../../src/retention/archive-index.js';
import { archiveFileName } from '../../src/retention/archive-format.js';
import { ensureBuilt, runCli, cliTestEnv } from '../helpers/cli.js';
import { truncateArchive, writeBombArchive } from '../helpers/hostile-archive.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { seedFinishedCampaign } from '../redis/retention-fixture.js';

// Issue 27 point 3: `export` and `report` on a crafted or cut archive exit 1 with one sentence
// naming the archive and what is wrong, never a stack trace or an out-of-memory death. `status`
// reads the archive index in Redis, not the file: it keeps answering.
let dir: string;
let prefix: string;
let env: NodeJS.ProcessEnv;
let redis: Redis;

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-hostile-cli-'));
  prefix = uniquePrefix('hostile-cli');
  env = cliTestEnv(prefix);
  redis = new Redis(testRedisUrl());
});

afterEach(async () => {
  rmSync(dir, { recursive: true, force: true });
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

const cli = (args: string[]) => runCli(args, { env, cwd: dir, timeoutMs: 120_000 });

async function archived(): Promise<{ id: string; file: string }> {
  const id = await seedFinishedCampaign(createCampaignStore(redis, prefix), 40);
  const done = await cli(['archive', id]);
  expect(done.code).toBe(0);
  return { id, file: join(dir, 'archives', archiveFileName(id)) };
}

const SLOW = 240_000;

async function expectStatusAnswers(id: string): Promise<void> {
  const status = await cli(['status', id]);
  expect(status.stderr).toBe('');
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/ARCHIVED .* no longer in Redis/);
}

describe('files fleetscan writes', () => {
  it(
    'writes archives, exports and reports 0600 and the archive directory 0700',
    async () => {
      const { id, file } = await archived();
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'archives')).mode & 0o777).toBe(0o700);
      for (const [args, out] of [
        [['export', id, '--out', 'devices.csv'], 'devices.csv'],
        [['export', id, '--format', 'ndjson', '--out', 'devices.ndjson'], 'devices.ndjson'],
        [['report', id, '--format', 'md', '--out', 'report.md'], 'report.md'],
        [['report', id, '--format', 'html', '--out', 'report.html'], 'report.html'],
      ] as const) {
        const result = await cli([...args]);
        expect(result.code, args.join(' ')).toBe(0);
        expect(statSync(join(dir, out)).mode & 0o777, out).toBe(0o600);
      }
    },
    SLOW,
  );
});

describe('commands reading a hostile archive', () => {
  it(
    'refuses a 700 MiB line in export and report with a clear message; status still answers',
    async () => {
      const { id, file } = await archived();
      const campaign = await createArchiveIndex(redis, prefix).get(id);
      if (!campaign) throw new Error('not archived');
      writeBombArchive(file, campaign, 700);
      for (const args of [
        ['export', id],
        ['report', id, '--format', 'md'],
      ]) {
        const result = await cli(args);
        expect(result.code, args.join(' ')).toBe(1);
        expect(result.stderr).toMatch(
          new RegExp(
            `^fleetscan: Archive .*${id}\\.ndjson\\.gz is damaged: line 2 is longer than \\d+ bytes`,
          ),
        );
        expect(result.stderr).not.toMatch(/RangeError|heap| {4}at /);
      }
      await expectStatusAnswers(id);
    },
    SLOW,
  );

  it(
    'refuses a truncated archive in export and report with a clear message; status still answers',
    async () => {
      const { id, file } = await archived();
      truncateArchive(file);
      for (const args of [
        ['export', id],
        ['report', id, '--format', 'md'],
      ]) {
        const result = await cli(args);
        expect(result.code, args.join(' ')).toBe(1);
        expect(result.stderr).toMatch(
          /^fleetscan: Archive .* is damaged: the gzip stream is cut short \(truncated file\)/,
        );
        expect(result.stderr).not.toMatch(/ {4}at /);
      }
      await expectStatusAnswers(id);
    },
    SLOW,
  );
});
