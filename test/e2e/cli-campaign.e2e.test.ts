import { laneKeys } from '../../src/lanes/lane-keys.js';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { createScanLimiter } from '../../src/limiter/scan-limiter.js';
import { runCli, spawnCli, waitForOutput } from '../helpers/cli.js';
import { useCliFixture } from '../helpers/cli-fixture.js';
import { liveWorker } from '../helpers/live-worker.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'C'.repeat(40); // upper case: normalised to lower case
const CSV = `machineId,name\n${A},one\n${B},two\nnot-an-id,three\n${A},again\n"${C}",four\n=cmd,five\n`;

interface ScanSummary {
  campaignId: string;
  accepted: number;
  invalid: number;
  duplicate: number;
  invalidLines: { line: number; value: string; reason: string }[];
  tenant?: string;
  priority?: string;
}

let dir: string;
let prefix: string;
let env: NodeJS.ProcessEnv;
let redis: Redis;

useCliFixture('cli', (t) => ({ dir, prefix, env, redis } = t), { files: { 'devices.csv': CSV } });

/** The lane of the budget of a config without credentials (budget id `commercial:static-token:static-token`). */
const lane = () => laneKeys(prefix, '{commercial:static-token:static-token:scan}');
const ready = (campaignId: string) => redis.zcard(lane().readyPrefix + campaignId);
const dispatchable = async (campaignId: string) =>
  (await redis.zscore(lane().roundRobin[1], campaignId)) !== null;

const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  runCli(args, { env: { ...env, ...extra } });

async function scan(...extra: string[]): Promise<ScanSummary> {
  const result = await cli([
    'scan',
    '--devices',
    join(dir, 'devices.csv'),
    '--comment',
    'e2e',
    '--json',
    ...extra,
  ]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ScanSummary;
}

describe('fleetscan scan', () => {
  it('queues the valid devices of a CSV and reports invalid and duplicate lines', async () => {
    const summary = await scan('--name', 'e2e run');
    expect(summary).toMatchObject({
      accepted: 3,
      invalid: 2,
      duplicate: 1,
      name: 'e2e run',
      scanType: 'Quick',
      skipped: {},
    });
    expect(summary.campaignId).toMatch(/^c-[a-z0-9]{12}$/);
    expect(summary.invalidLines.map((l) => l.line)).toEqual([4, 7]);
    expect(await ready(summary.campaignId)).toBe(3);
    expect(await dispatchable(summary.campaignId)).toBe(true);
    const campaign = await createCampaignStore(redis, prefix).getCampaign(summary.campaignId);
    expect(campaign?.comment).toBe(`e2e [fleetscan:${summary.campaignId}]`);
  });

  it('adds nothing twice when the same command runs again with --campaign-id', async () => {
    const first = await scan();
    const again = await scan('--campaign-id', first.campaignId);
    expect(again).toMatchObject({ campaignId: first.campaignId, accepted: 0, duplicate: 4 });
    expect(await ready(first.campaignId)).toBe(3);
  });

  it('reads ids from stdin', async () => {
    const result = await runCli(['scan', '--devices', '-', '--comment', 'pipe', '--json'], {
      env,
      input: `${A}\n${B}\n`,
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ accepted: 2, invalid: 0 });
  });

  it('exits 1 on an unreadable file, and creates no campaign', async () => {
    const result = await cli([
      'scan',
      '--devices',
      join(dir, 'missing.csv'),
      '--comment',
      'x',
      '--json',
    ]);
    expect(result.code).toBe(1);
    // With --json the failure is one JSON object on stdout too.
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({
      error: { kind: 'device-file', code: 'unreadable' },
    });
    expect(result.stdout).toMatch(/missing\.csv.*cannot read/i);
    expect(await redis.zcard(`${prefix}:campaigns`)).toBe(0);
  });

  it('refuses the whole file with --strict', async () => {
    const result = await cli([
      'scan',
      '--devices',
      join(dir, 'devices.csv'),
      '--comment',
      'x',
      '--strict',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 4/);
    expect(await redis.zcard(`${prefix}:campaigns`)).toBe(0);
  });

  it('exits 1 on bad input, bad config and an unreachable Redis', async () => {
    const noComment = await cli(['scan', '--devices', join(dir, 'devices.csv')]);
    expect(noComment.code).toBe(1);
    expect(noComment.stderr).toMatch(/--comment/);
    const both = await cli(['scan', '--devices', 'x.csv', '--tag', 'T', '--comment', 'x']);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(
      /only one of --devices, --query\/--tag\/--group, --all, or one of --hunting/,
    );
    writeFileSync(join(dir, 'empty.csv'), 'machineId\nnope\n');
    const empty = await cli(['scan', '--devices', join(dir, 'empty.csv'), '--comment', 'x']);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/No devices to scan.*1 invalid/);
    expect(await redis.zcard(`${prefix}:campaigns`)).toBe(0);
    const badConfig = await cli(['status'], { FLEETSCAN_RATE_LIMITS: 'lots' });
    expect(badConfig.code).toBe(1);
    expect(badConfig.stderr).toMatch(/limits\.windows/);
    const noRedis = await cli(['status'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(noRedis.code).toBe(1);
    expect(noRedis.stderr).toMatch(/Redis is unreachable/);
  });

  it('shows an example in --help', async () => {
    for (const command of ['scan', 'status', 'export', 'cancel', 'pause', 'resume']) {
      const result = await cli([command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Example/);
    }
  });
});

describe('fleetscan status, export, cancel, pause, resume', () => {
  it('reports counts, budget and ETA as one JSON object, and lists every campaign', async () => {
    const { campaignId } = await scan();
    const worker = liveWorker(redis, prefix);
    await worker.ready;
    const one = await cli(['status', campaignId, '--json']);
    expect(one.code).toBe(0);
    const status = JSON.parse(one.stdout) as Record<string, unknown>;
    expect(status).toMatchObject({
      campaign: { id: campaignId, state: 'running', total: 3, counts: { queued: 3 } },
      remaining: 3,
      done: false,
      budget: {
        family: 'scan',
        windows: [
          { cap: 100, used: 0 },
          { cap: 1_500, used: 0 },
        ],
      },
      eta: { remaining: 3, ms: 0 },
    });
    const all = await cli(['status']);
    expect(all.stdout).toContain(campaignId);
    const human = await cli(['status', campaignId]);
    expect(human.stdout).toMatch(/queued\s+3/);
    await worker.stop();
  });

  it('exits 1 for an unknown campaign', async () => {
    for (const command of ['status', 'export', 'cancel', 'pause', 'resume']) {
      const result = await cli([command, 'c-000000000000']);
      expect(result.code, command).toBe(1);
      expect(result.stderr).toMatch(/No campaign "c-000000000000"/);
    }
  });

  it('waits until the campaign finishes and exits 1 with --exit-status when a device failed', async () => {
    const { campaignId } = await scan();
    const run = spawnCli(
      ['status', campaignId, '--wait', '--interval', '100ms', '--json', '--exit-status'],
      { env },
    );
    await waitForOutput(run, (text) => text.includes('0/3'));
    const store = createCampaignStore(redis, prefix);
    await store.markFailed(campaignId, A, 'ResourceNotFound: no such device');
    await store.markRequested(
      campaignId,
      B,
      { id: 'x1', status: 'Pending', creationDateTimeUtc: '2026-11-23T11:00:00Z' },
      { joinedExisting: false, at: Date.now() },
    );
    await store.markRequested(
      campaignId,
      C.toLowerCase(),
      { id: 'x2', status: 'Pending', creationDateTimeUtc: '2026-11-23T11:00:00Z' },
      { joinedExisting: true, at: Date.now() },
    );
    const result = await run.exited;
    expect(result.code).toBe(1);
    const status = JSON.parse(result.stdout) as {
      campaign: { state: string; failuresByReason: object };
    };
    expect(status.campaign.state).toBe('finished');
    expect(status.campaign.failuresByReason).toEqual({ 'ResourceNotFound: no such device': 1 });
  });

  it('waits without an id until no campaign has devices waiting', async () => {
    const { campaignId } = await scan();
    const run = spawnCli(['status', '--wait', '--interval', '100ms', '--json', '--exit-status'], {
      env,
    });
    await waitForOutput(run, (text) => text.includes('3 devices queued or deferred'));
    const store = createCampaignStore(redis, prefix);
    await store.markFailed(campaignId, A, 'ResourceNotFound: no such device');
    for (const id of [B, C.toLowerCase()]) {
      await store.markRequested(
        campaignId,
        id,
        { id: `x-${id}`, status: 'Pending', creationDateTimeUtc: '2026-11-23T11:00:00Z' },
        { joinedExisting: false, at: Date.now() },
      );
    }
    const result = await run.exited;
    expect(result.code, result.stderr).toBe(1);
    const status = JSON.parse(result.stdout) as { campaigns: { id: string; state: string }[] };
    expect(status.campaigns).toEqual([
      expect.objectContaining({ id: campaignId, state: 'finished' }),
    ]);
  });

  it('exports one row per device to a file written whole, and to stdout', async () => {
    const { campaignId } = await scan();
    await createCampaignStore(redis, prefix).markFailed(campaignId, A, '=HYPERLINK("x")');
    const out = join(dir, 'out.csv');
    const written = await cli(['export', campaignId, '--out', out]);
    expect(written.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['devices.csv', 'out.csv']);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'machineId,state,machineActionId,actionStatus,reason,attempts,requestedAt,joinedExisting,' +
        'actionUpdatedAt,cancelResult,scanResult,scanCompletedAt,scanType,hostname,nextAttemptAt,' +
        'threats,threatNames,unremediated,threatFiles,alerts,alertTitles,tenant,priority',
    );
    expect(lines).toHaveLength(4);
    expect(lines).toContain(
      `${A},failed,,,"'=HYPERLINK(""x"")",0,,false,,,,,,,,,,,,,,default,normal`,
    );
    const ndjson = await cli(['export', campaignId, '--format', 'ndjson']);
    expect(
      ndjson.stdout
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { state: string }).state)
        .sort(),
    ).toEqual(['failed', 'queued', 'queued']);
    const bad = await cli(['export', campaignId, '--format', 'xlsx']);
    expect(bad.code).toBe(1);
  });

  it('pauses, resumes and cancels, and says so when there is nothing to cancel', async () => {
    const { campaignId } = await scan();
    const paused = await cli(['pause', campaignId, '--json']);
    expect(JSON.parse(paused.stdout)).toMatchObject({
      state: 'paused',
      devicesWithdrawn: 3,
      jobsRemoved: 3,
    });
    expect(await dispatchable(campaignId)).toBe(false);
    expect(await ready(campaignId)).toBe(3);
    const resumed = await cli(['resume', campaignId, '--json']);
    expect(JSON.parse(resumed.stdout)).toMatchObject({
      state: 'running',
      devicesQueued: 3,
      jobsSubmitted: 3,
    });
    expect(await dispatchable(campaignId)).toBe(true);
    expect(await ready(campaignId)).toBe(3);
    const cancelled = await cli(['cancel', campaignId, '--json']);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({
      previous: 'running',
      state: 'cancelled',
      devicesCancelled: 3,
    });
    expect(await ready(campaignId)).toBe(0);
    expect(await dispatchable(campaignId)).toBe(false);

    const other = await scan();
    const store = createCampaignStore(redis, prefix);
    for (const id of [A, B, C.toLowerCase()]) await store.markFailed(other.campaignId, id, 'x');
    const finished = await cli(['cancel', other.campaignId]);
    expect(finished.code).toBe(0);
    expect(finished.stdout).toMatch(/already finished/);
  });
});

describe('fleetscan priority, tenants, scan --priority/--tenant', () => {
  it('shows the effective cap a 429 taught the budget, beside the configured one', async () => {
    // A worker of the same budget: 61 calls accepted in the minute, the 62nd refused.
    const limiter = createScanLimiter({
      redis,
      prefix,
      budgetId: 'commercial:static-token:static-token',
      windows: [
        { cap: 100, windowMs: 60_000 },
        { cap: 1_500, windowMs: 3_600_000 },
      ],
      guardMs: 50,
      throttleDefaultMs: 60_000,
      adaptive: {
        min: { cap: 10, windowMs: 60_000 },
        holdMs: 60_000,
        holdMaxMs: 480_000,
        increaseEveryMs: 5_000,
        probeInflight: 4,
      },
    });
    for (let i = 0; i < 61; i++) {
      const permit = await limiter.acquire('scan');
      await permit.settle();
    }
    const refused = await limiter.acquire('scan');
    await refused.settle();
    await limiter.observe('scan', refused, 429);

    const tenants = await cli(['tenants', '--json']);
    expect(tenants.code, tenants.stderr).toBe(0);
    const [report] = (JSON.parse(tenants.stdout) as { tenants: unknown[] }).tenants;
    expect(report).toMatchObject({
      name: 'default',
      windows: [
        { cap: 61, configuredCap: 100, windowMs: 60_000, used: 62, reserve: 6 },
        { cap: 1_500, configuredCap: 1_500, windowMs: 3_600_000, used: 62 },
      ],
      normalMayCall: false,
      adaptive: {
        enabled: true,
        state: 'lowered',
        windows: [
          { windowMs: 60_000, configuredCap: 100, effectiveCap: 61, floor: 10 },
          { windowMs: 3_600_000, configuredCap: 1_500, effectiveCap: 1_500, floor: 600 },
        ],
        lastDecrease: {
          reason: '429 on a granted slot (window not named): 1m window 100 → 61 (62 of ours in it)',
        },
      },
    });
    const table = await cli(['tenants']);
    expect(table.stdout).toMatch(/lowered 61\/100 per 1m \(last 429 \d{4}-\d\d-\d\dT/);
  });

  it('starts a campaign in a class, moves it, and lists the tenant with its reserve and waiting work', async () => {
    const summary = await scan('--priority', 'urgent');
    expect(summary).toMatchObject({ tenant: 'default', priority: 'urgent' });
    expect(await redis.zscore(lane().roundRobin[0], summary.campaignId)).not.toBeNull();

    const moved = await cli(['priority', summary.campaignId, 'background', '--json']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ previous: 'urgent', priority: 'background' });
    expect(await redis.zscore(lane().roundRobin[2], summary.campaignId)).not.toBeNull();
    const bad = await cli(['priority', summary.campaignId, 'asap']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/must be one of urgent, normal, background, got asap/);

    const tenants = await cli(['tenants', '--json']);
    expect(tenants.code, tenants.stderr).toBe(0);
    expect(JSON.parse(tenants.stdout)).toMatchObject({
      tenants: [
        {
          name: 'default',
          windows: [
            { cap: 100, configuredCap: 100, windowMs: 60_000, used: 0, reserve: 10 },
            { cap: 1_500, configuredCap: 1_500, windowMs: 3_600_000, used: 0, reserve: 100 },
          ],
          adaptive: { enabled: true, state: 'configured', lastDecrease: null },
          heldForMs: 0,
          campaignsWaiting: { urgent: 0, normal: 0, background: 1 },
        },
      ],
    });
    const table = await cli(['tenants']);
    expect(table.stdout).toMatch(/default\s+commercial\s+0\/100 per 1m \(10\)/);
    expect(table.stdout).toMatch(/open\s+configured caps/);

    const unknown = await cli([
      'scan',
      '--devices',
      join(dir, 'devices.csv'),
      '--comment',
      'x',
      '--tenant',
      'contoso',
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/--tenant contoso is not configured; tenants: default/);
    for (const command of ['priority', 'tenants']) {
      const help = await cli([command, '--help']);
      expect(help.stdout).toMatch(/Example/);
    }
  });
});
