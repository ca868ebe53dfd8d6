import { writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { loadConfig } from '../../src/config/load.js';
import { limiterFromConfig } from '../../src/runtime/api-from-config.js';
import { createLogger } from '../../src/shared/logger.js';
import { runCli } from '../helpers/cli.js';
import { useCliFixture } from '../helpers/cli-fixture.js';
import { liveWorker } from '../helpers/live-worker.js';
import { withSimulator } from '../helpers/with-simulator.js';
import { laneKeys, laneMember } from '../../src/lanes/lane-keys.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

let dir: string;
let prefix: string;
let env: NodeJS.ProcessEnv;
let redis: Redis;

useCliFixture('daily', (t) => ({ dir, prefix, env, redis } = t), {
  files: { 'devices.csv': `machineId\n${A}\n${B}\n${C}\n` },
});

const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  runCli(args, { env: { ...env, ...extra } });

async function newCampaign(): Promise<string> {
  const result = await cli([
    'scan',
    '--devices',
    join(dir, 'devices.csv'),
    '--comment',
    'daily',
    '--json',
  ]);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { campaignId: string }).campaignId;
}

describe('errors', () => {
  it('points to --help after a usage error instead of printing the whole help', async () => {
    const result = await cli(['status', '--bogus']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error: unknown option '--bogus'");
    expect(result.stderr).toContain('--help');
    expect(result.stderr).not.toContain('Usage:');
  });

  it('reports usage and configuration errors as one JSON object with --json', async () => {
    const usage = await cli(['status', '--bogus', '--json']);
    expect(usage.code).toBe(1);
    expect(JSON.parse(usage.stdout)).toEqual({
      error: { kind: 'usage', message: "unknown option '--bogus'" },
    });
    const config = await cli(['status', '--json'], {
      FLEETSCAN_RATE_LIMITS: '100/1x',
      FLEETSCAN_CONCURRENCY: 'eight',
    });
    expect(config.code).toBe(1);
    const parsed = JSON.parse(config.stdout) as {
      error: { kind: string; issues: { path: string; message: string }[] };
    };
    expect(parsed.error.kind).toBe('config');
    expect(parsed.error.issues.map((i) => i.path).sort()).toEqual([
      'limits.windows',
      'worker.concurrency',
    ]);
    expect(config.stdout).toContain('got \\"100/1x\\"');
  });

  it('calls a binary file a binary file, not a CSV without an id column', async () => {
    const elf = join(dir, 'tool');
    writeFileSync(elf, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0x2c, 0x0a, 0x41]));
    const result = await cli(['scan', '--devices', elf, '--comment', 'x']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not a UTF-8 text file (binary content at byte 7)');
    expect(result.stderr).not.toContain('--column');
  });

  it('explains a broken CSV quote in its own words, with the line', async () => {
    const file = join(dir, 'quotes.csv');
    writeFileSync(file, `machineId,name\n${A},"WS 1"x\n`);
    const result = await cli(['scan', '--devices', file, '--comment', 'x']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 2: a quoted field goes on after its closing quote/);
    expect(result.stderr).not.toContain('Invalid Closing Quote');
  });
});

describe('campaign control', () => {
  it('refuses to pause, resume or reclass a cancelled campaign and shows when it was cancelled', async () => {
    const id = await newCampaign();
    expect((await cli(['cancel', id])).code).toBe(0);
    const pause = await cli(['pause', id]);
    expect(pause.code).toBe(1);
    expect(pause.stderr).toContain(`Campaign ${id} is cancelled; it cannot be paused.`);
    const resume = await cli(['resume', id, '--json']);
    expect(resume.code).toBe(1);
    expect(JSON.parse(resume.stdout)).toMatchObject({ error: { kind: 'usage' } });
    const priority = await cli(['priority', id, 'urgent']);
    expect(priority.code).toBe(1);
    expect(priority.stderr).toContain(
      `Campaign ${id} is cancelled; nothing of it waits, so its class cannot change.`,
    );
    expect((await createCampaignStore(redis, prefix).getCampaign(id))?.priority).toBe('normal');
    const status = await cli(['status', id]);
    expect(status.stdout).not.toMatch(/ended\s*$/m);
    expect(status.stdout).toMatch(
      /cancelled at \d{4}-\d\d-\d\dT[\d:.]+Z: 3 devices were never called for/,
    );
  });

  it('says a second pause changed nothing', async () => {
    const id = await newCampaign();
    expect((await cli(['pause', id])).stdout).toContain(
      'paused: its 3 waiting devices keep their place',
    );
    const again = await cli(['pause', id]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(
      `Campaign ${id} is already paused (3 devices waiting); nothing is called for`,
    );
    expect(again.stdout).not.toContain('leftover');
  });
});

describe('failure reasons', () => {
  it('groups one error seen at different moments under one code, messages in the detail', async () => {
    const id = await newCampaign();
    const store = createCampaignStore(redis, prefix);
    await store.markFailed(id, A, 'request to the API timed out at 2026-12-01T04:01:02.123Z');
    await store.markFailed(id, B, 'request to the API timed out at 2026-12-01T04:05:09.777Z');
    await store.markFailed(id, C, 'OsPlatformNotSupported: Action is not supported on iOS.');
    const result = await cli(['status', id]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.filter((l) => /^\s+\d+\s+request to the API timed out at …$/.test(l))).toEqual([
      '          2  request to the API timed out at …',
    ]);
    expect(result.stdout).toContain('          1  OsPlatformNotSupported\n');
    expect(result.stdout).toContain('1 × Action is not supported on iOS.');
  });
});

describe('progress while a window is full', () => {
  it('says which window it waits for and until when, and counts the ETA from there', async () => {
    const id = await newCampaign();
    const worker = liveWorker(redis, prefix);
    await worker.ready;
    const limits = { FLEETSCAN_RATE_LIMITS: '100/1m,2/1h', FLEETSCAN_RATE_RESERVE: '0' };
    const config = loadConfig({ env: { ...env, ...limits } });
    const limiter = limiterFromConfig(config, redis, createLogger({ level: 'silent' }));
    for (const permit of await Promise.all([1, 2].map(() => limiter.acquire('scan'))))
      await permit.settle();
    const result = await cli(['status', id], limits);
    expect(result.code, result.stderr).toBe(0);
    // Both hour slots leave an hour from now: 3 devices take two more hours (2 per hour).
    expect(result.stdout).toMatch(/waiting for the hour window until \d\d:\d\d; ETA ~2h 00m/);
    const json = await cli(['status', id, '--json'], limits);
    const eta = (JSON.parse(json.stdout) as { eta: { waitingFor: { windowMs: number } } }).eta;
    expect(eta.waitingFor.windowMs).toBe(3_600_000);
    await worker.stop();
  });
});

describe('a busy device waiting for its retry', () => {
  it('shows the next retry in status, --json and export, and no ETA of now', async () => {
    const id = await newCampaign();
    const worker = liveWorker(redis, prefix);
    await worker.ready;
    const store = createCampaignStore(redis, prefix);
    const action = (n: number) => ({
      id: `7f1c2a3b-0000-4000-8000-00000000000${String(n)}`,
      status: 'Pending' as const,
      creationDateTimeUtc: new Date().toISOString(),
    });
    await store.markRequested(id, B, action(1), { joinedExisting: false, at: Date.now() });
    await store.markRequested(id, C, action(2), { joinedExisting: false, at: Date.now() });
    // Device A answered busy: deferred in the store and due in its lane, as the worker leaves it.
    const until = Date.now() + 260_000;
    await store.markDeferred(id, A, { until, at: Date.now() });
    const config = loadConfig({ env });
    const limiter = limiterFromConfig(config, redis, createLogger({ level: 'silent' }));
    const lane = laneKeys(prefix, limiter.slotsOf('scan').keys.tag);
    await redis.zrem(lane.readyPrefix + id, A);
    await redis.zadd(lane.due, until, laneMember(id, A));

    const text = await cli(['status', id]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).not.toContain('ETA now');
    expect(text.stdout).toMatch(/ETA ~[34]m.*, next retry \d\d:\d\d:\d\d \(1 device waiting\)/);
    expect(text.stdout).toMatch(/deferred +1 +busy devices; 1 deferrals so far; next retry /);
    const json = JSON.parse((await cli(['status', id, '--json'])).stdout) as {
      nextAttemptAt: string;
      eta: { ms: number };
    };
    expect(json.nextAttemptAt).toBe(new Date(until).toISOString());
    expect(json.eta.ms).toBeGreaterThan(200_000);
    const all = JSON.parse((await cli(['status', '--json'])).stdout) as {
      campaigns: { id: string; nextAttemptAt: string | null }[];
    };
    expect(all.campaigns.find((c) => c.id === id)?.nextAttemptAt).toBe(
      new Date(until).toISOString(),
    );
    const exported = (await cli(['export', id])).stdout.split('\r\n');
    expect(exported.find((l) => l.startsWith(A))).toContain(
      `,deferred,,,,0,,false,,,,,,,${new Date(until).toISOString()},,,,,,,default,normal`,
    );
    await worker.stop();
  });
});

describe('status --state', () => {
  it('lists only the campaigns in the given states and refuses an unknown one', async () => {
    const running = await newCampaign();
    const cancelled = await newCampaign();
    expect((await cli(['cancel', cancelled])).code).toBe(0);
    const only = await cli(['status', '--state', 'cancelled', '--json']);
    expect(only.code, only.stderr).toBe(0);
    const ids = (JSON.parse(only.stdout) as { campaigns: { id: string }[] }).campaigns.map(
      (c) => c.id,
    );
    expect(ids).toEqual([cancelled]);
    const table = await cli(['status', '--state', 'running,paused']);
    expect(table.stdout).toContain(running);
    expect(table.stdout).not.toContain(cancelled);
    expect((await cli(['status', '--state', 'paused'])).stdout).toContain('No campaign is paused.');
    const typo = await cli(['status', '--state', 'runing']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain(
      '--state: unknown state "runing"; use running, paused, cancelled, finished',
    );
  });
});

describe('scan --dry-run', () => {
  it('counts devices, invalid and duplicate lines and the budget floor, and creates nothing', async () => {
    const file = join(dir, 'fleet.csv');
    const ids = Array.from({ length: 2_500 }, (_, i) => i.toString(16).padStart(40, '0'));
    writeFileSync(
      file,
      `Device ID,Device Name\n${ids.map((id, i) => `${id},WS-${String(i)}`).join('\n')}\n${ids[0] ?? ''},again\nnot-a-device,x\n`,
    );
    const json = await cli(['scan', '--devices', file, '--comment', 'x', '--dry-run', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      dryRun: true,
      devices: 2_500,
      invalid: 1,
      duplicate: 1,
      invalidLines: [{ line: 2_503, value: 'not-a-device', reason: 'not-a-machine-id' }],
      // 1,500 at 100 a minute, the hour window full until minute 60, then 1,000 more.
      floorMs: 69 * 60_000,
    });
    const text = await cli(['scan', '--devices', file, '--comment', 'x', '--dry-run']);
    expect(text.stdout).toContain(
      'Dry run (nothing created): 2,500 devices would be queued from file:fleet.csv',
    );
    expect(text.stdout).toContain('the scan budget needs at least 1h 09m for them');
    expect(await redis.keys(`${prefix}:*`)).toEqual([]);
  });
});

describe('scan, as a real run will go', () => {
  it('refuses an unknown tenant in a dry run as the real run does', async () => {
    const args = ['scan', '--devices', join(dir, 'devices.csv'), '--comment', 'x'];
    const dry = await cli([...args, '--tenant', 'contoso', '--dry-run']);
    expect(dry.code).toBe(1);
    expect(dry.stderr).toContain('--tenant contoso is not configured; tenants: default');
    expect(dry.stdout).not.toContain('would be queued');
    expect((await cli([...args, '--tenant', 'default', '--dry-run'])).code).toBe(0);
  });

  it('says workers are on it instead of asking to start them when they run', async () => {
    const args = ['scan', '--devices', join(dir, 'devices.csv'), '--comment', 'x'];
    expect((await cli(args)).stdout).toContain('Start workers');
    const worker = liveWorker(redis, prefix);
    await worker.ready;
    const served = await cli(args);
    expect(served.code, served.stderr).toBe(0);
    expect(served.stdout).toContain('1 live worker serves tenant default');
    expect(served.stdout).not.toContain('Start workers');
    await worker.stop();
  });
});

describe('host names', () => {
  it('keeps the Device Name column of a CSV and exports it with each device', async () => {
    const file = join(dir, 'named.csv');
    writeFileSync(file, `Device ID,Device Name\n${A},WS-0001\n${B},WS-0002\n${C},\n`);
    const scan = await cli(['scan', '--devices', file, '--comment', 'x', '--json']);
    expect(scan.code, scan.stderr).toBe(0);
    const id = (JSON.parse(scan.stdout) as { campaignId: string }).campaignId;
    const exported = await cli(['export', id]);
    const lines = exported.stdout.trimEnd().split('\r\n');
    expect(
      lines[0]?.endsWith(
        ',hostname,nextAttemptAt,threats,threatNames,unremediated,threatFiles,alerts,alertTitles,tenant,priority',
      ),
    ).toBe(true);
    expect(lines.filter((l) => l.startsWith(A))).toEqual([
      `${A},queued,,,,0,,false,,,,,,WS-0001,,,,,,,,default,normal`,
    ]);
    expect(lines.filter((l) => l.startsWith(C))).toEqual([
      `${C},queued,,,,0,,false,,,,,,,,,,,,,,default,normal`,
    ]);
    // status names a failed device by its host name.
    await createCampaignStore(redis, prefix).markFailed(id, A, 'OsPlatformNotSupported: iOS');
    const status = await cli(['status', id]);
    expect(status.stdout).toContain(
      `  failed devices:\n    WS-0001 ${A}  OsPlatformNotSupported\n`,
    );
  });
});

describe('audit log', () => {
  it('records every CLI write with who, source and outcome, refusals with their reason', async () => {
    await withSimulator({ fleet: 10, timeScale: 100, latencyMs: [1, 5] }, async ({ url, sim }) => {
      const defender = {
        MDE_API_URL: url,
        MDE_ACCESS_TOKEN: sim.issueToken({ lifetimeSec: 3_600 }),
      };
      const [first, second, third] = [
        await newCampaign(),
        await newCampaign(),
        await newCampaign(),
      ];
      const ok = async (args: string[], extra: NodeJS.ProcessEnv = {}) => {
        const result = await runCli(args, {
          env: { ...env, ...extra },
          cwd: dir,
          timeoutMs: 120_000,
        });
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
        return result;
      };
      await ok(['cancel', first, '--actions'], defender);
      await ok(['retry', second]);
      for (const name of ['nightly', 'weekly'])
        await ok([
          'schedule',
          'add',
          name,
          '--cron',
          '30 2 * * *',
          '--devices',
          'devices.csv',
          '--comment',
          name,
        ]);
      const fired = JSON.parse((await ok(['schedule', 'trigger', 'nightly', '--json'])).stdout) as {
        campaignId: string;
      };
      await ok(['pause', second]);
      await ok(['priority', third, 'urgent']);
      const token = JSON.parse(
        (await ok(['token', 'create', '--name', 'audit-e2e', '--json'])).stdout,
      ) as {
        id: string;
      };
      const refused = await cli(['pause', first]);
      expect(refused.code).toBe(1);

      const listed = await cli(['audit', '--limit', '100', '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      const entries = (
        JSON.parse(listed.stdout) as {
          entries: {
            who: string;
            source: string;
            action: string;
            target: string;
            outcome: string;
            status: number | null;
            detail: string;
          }[];
        }
      ).entries.reverse();
      const me = `${userInfo().username}@${hostname()}`;
      expect(entries.every((e) => e.who === me && e.source === 'cli' && e.status === null)).toBe(
        true,
      );
      expect(entries.map((e) => [e.action, e.target, e.outcome])).toEqual([
        ['campaign.create', first, 'ok'],
        ['campaign.create', second, 'ok'],
        ['campaign.create', third, 'ok'],
        ['campaign.cancel', first, 'ok'],
        ['campaign.retry', second, 'ok'],
        ['schedule.create', 'nightly', 'ok'],
        ['schedule.create', 'weekly', 'ok'],
        ['schedule.trigger', 'nightly', 'ok'],
        ['campaign.pause', second, 'ok'],
        ['campaign.priority', third, 'ok'],
        ['token.create', token.id, 'ok'],
        ['campaign.pause', first, 'refused'],
      ]);
      const detail = (i: number) => entries[i]?.detail ?? '';
      expect(detail(0)).toBe('3 devices from file:devices.csv');
      expect(detail(3)).toMatch(/^\+actions: 3 waiting stopped, 0 actions cancelled/);
      expect(detail(4)).toBe('0 requeued');
      expect(detail(7)).toBe(`started ${fired.campaignId}`);
      expect(detail(8)).toBe('running -> paused');
      expect(detail(9)).toBe('normal -> urgent');
      expect(detail(11)).toContain(`Campaign ${first} is cancelled; it cannot be paused.`);

      const table = await cli(['audit']);
      expect(table.stdout).toMatch(/WHO\s+SOURCE\s+ACTION/);
      expect(table.stdout).toContain(`${me}  cli`);
    });
  }, 300_000);
});
