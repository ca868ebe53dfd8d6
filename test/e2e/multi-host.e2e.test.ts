import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summariseScanCalls } from '../../bench/lib/call-analysis.js';
import { campaignEnv } from '../../bench/lib/fleetscan-campaign.js';
import { waitForCampaignDone } from '../../bench/lib/fleetscan-runner.js';
import {
  startHostsApi,
  startHostWorkers,
  stopHostWorkers,
  type HostsApi,
  type HostWorkers,
} from '../../bench/lib/hosts-campaign.js';
import {
  MDE_WINDOWS,
  benchMachines,
  compressed,
  latencyFor,
  machineIds,
  writeIdsFile,
} from '../../bench/lib/sim-harness.js';
import {
  createVirtualNetwork,
  measureClockOffset,
  type VirtualNetwork,
} from '../../bench/lib/virtual-hosts.js';
import { campaignKeys } from '../../src/campaigns/campaign-keys.js';
import { listWorkers, WORKER_HEARTBEAT_MS } from '../../src/ops/worker-presence.js';
import { startRedisServer, type OwnRedis } from '../../src/shared/redis-server.js';
import { CLI_MAIN, ensureBuilt, runCli } from '../helpers/cli.js';
import { uniquePrefix } from '../helpers/redis.js';

/**
 * Issue 15, "several hosts, one budget": three hosts as network namespaces, each with two
 * `fleetscan worker` processes and a wall clock of its own (+25 s, −30 s, 0 via libfaketime),
 * against one Redis and the simulator across a virtual network. The verdicts come from the
 * simulator's own log. (The efficiency against one host is a speed figure: `npm run bench -- hosts`.)
 */
const CLOCK_OFFSETS_SEC = [25, -30, 0] as const;
const WORKERS_PER_HOST = 2;

let network: VirtualNetwork;
let redis: OwnRedis;
let admin: Redis;
let dir: string;
/** Undoes what beforeAll built, newest first, also when it failed half-way. */
const teardown: (() => unknown)[] = [];
/** Every worker and simulator started, stopped in afterAll whatever happened. */
const started: { workers: HostWorkers; apis: HostsApi[] } = { workers: [], apis: [] };

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-hosts-e2e-'));
  teardown.push(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  // Fails (never skips) with what is missing: root, `ip`, libfaketime.
  network = createVirtualNetwork(CLOCK_OFFSETS_SEC);
  teardown.push(() => {
    network.destroy();
  });
  redis = await startRedisServer({ host: network.redisGateway });
  teardown.push(() => redis.stop());
  admin = new Redis(redis.url);
  teardown.push(() => {
    admin.disconnect();
  });
}, 240_000);

afterAll(async () => {
  await stopHostWorkers(started.workers);
  for (const api of started.apis) await api.stop().catch(() => undefined);
  for (const undo of teardown.reverse()) await undo();
}, 60_000);

/** Everything one campaign needs on the virtual network: the simulator, env, device file. */
async function setUp(options: { devices: number; spare: number; factor: number }) {
  const ids = machineIds(options.devices + options.spare);
  const api = await startHostsApi(network, {
    machines: benchMachines(ids),
    timeScale: options.factor,
    rateLimits: MDE_WINDOWS,
    latencyMs: latencyFor(options.factor),
    seed: 15,
  });
  started.apis.push(api);
  const prefix = uniquePrefix('hosts');
  const windows = compressed(MDE_WINDOWS, options.factor);
  const env = campaignEnv(options, { ...api, redisUrl: redis.url, prefix, workDir: dir });
  const file = join(dir, `${prefix}.txt`);
  await writeIdsFile(file, options.devices, (i) => ids[i]!);
  const spareFile = join(dir, `${prefix}-spare.txt`);
  await writeIdsFile(spareFile, options.spare, (i) => ids[options.devices + i]!);
  return { ids, api, prefix, windows, env, file, spareFile };
}

type Campaign = Awaited<ReturnType<typeof setUp>>;

/** The simulator's verdict on every device of the fleet: one action each, no 429, caps kept. */
function expectOneBudget(run: Campaign) {
  const calls = summariseScanCalls(run.api.sim.calls(), run.windows);
  expect(calls.devicesWithAction).toBe(run.ids.length);
  expect(calls.duplicateDevices).toBe(0);
  expect(calls.throttled).toBe(0);
  // No 429 on any family (the look-ups after a cut count on their own budget).
  expect(run.api.sim.stats().throttled).toBe(0);
  for (const [i, window] of run.windows.entries())
    expect(calls.maxInWindow[i], `calls in any ${window.windowMs} ms`).toBeLessThanOrEqual(
      window.cap,
    );
}

/** `fleetscan scan --devices FILE --json` from the root namespace (the real clock). */
async function scan(run: Campaign, file: string, devices: number): Promise<string> {
  const result = await runCli(['scan', '--devices', file, '--comment', 'hosts e2e', '--json'], {
    env: run.env,
    timeoutMs: 120_000,
  });
  // With --json a failure is one JSON object on stdout.
  expect(result.code, `${result.stderr}${result.stdout}`).toBe(0);
  const out = JSON.parse(result.stdout) as { campaignId: string; accepted: number };
  expect(out.accepted).toBe(devices);
  return out.campaignId;
}

async function scanAndFinish(run: Campaign, file: string, devices: number) {
  const campaignId = await scan(run, file, devices);
  const done = await waitForCampaignDone(admin, run.prefix, campaignId, {
    timeoutMs: 180_000,
    now: () => Date.now(),
  });
  expect(done.counts['requested']).toBe(devices);
  expect(await admin.hget(campaignKeys(run.prefix, campaignId).campaign, 'state')).toBe('finished');
}

/** Waits until `status` and the dashboard would list `count` live workers (a 20 s deadline). */
async function expectLiveWorkers(prefix: string, count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  let live = await listWorkers(admin, prefix, { intervalMs: WORKER_HEARTBEAT_MS });
  while (live.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    live = await listWorkers(admin, prefix, { intervalMs: WORKER_HEARTBEAT_MS });
  }
  expect(live).toHaveLength(count);
}

describe('three hosts with clocks 55 s apart, one Redis, one budget', () => {
  it('runs every worker under its own clock offset', () => {
    for (const host of network.hosts) {
      const { offsetMs, uncertaintyMs } = measureClockOffset(network, host);
      expect(Math.abs(offsetMs - host.clockOffsetSec * 1_000)).toBeLessThan(uncertaintyMs + 1_000);
    }
  });

  it('keeps the cap in every sliding window without a 429 and scans every device exactly once', async () => {
    // Time ×20: a minute is 3 s, so 300 devices take three full windows.
    const run = await setUp({ devices: 300, spare: 0, factor: 20 });
    const workers = await startHostWorkers(network, run.env, {
      perHost: WORKERS_PER_HOST,
      concurrency: 8,
      redis: admin,
      prefix: run.prefix,
      cli: CLI_MAIN,
    });
    started.workers.push(...workers);
    // Presence is on Redis TIME too: the host 30 s behind is not taken for dead.
    await expectLiveWorkers(run.prefix, network.hosts.length * WORKERS_PER_HOST);
    await scanAndFinish(run, run.file, 300);
    await stopHostWorkers(workers);
    expectOneBudget(run);
    // Every host took part: the budget was really shared across the clocks.
    for (const host of network.hosts)
      expect(run.api.scansFrom(host), host.namespace).toBeGreaterThan(0);
  }, 300_000);

  it('loses nothing and scans nothing twice when a host is cut off from Redis mid-run', async () => {
    // Time ×10: a minute is 6 s, so 600 devices keep the budget busy for about 30 s.
    const run = await setUp({ devices: 600, spare: 30, factor: 10 });
    const workers = await startHostWorkers(network, run.env, {
      perHost: WORKERS_PER_HOST,
      concurrency: 8,
      // A cut-off host's devices go back to the others after this; its calls keep their lease.
      lockDuration: '2s',
      redis: admin,
      prefix: run.prefix,
      cli: CLI_MAIN,
    });
    started.workers.push(...workers);
    const cut = network.hosts[0]!;
    const scanned = scan(run, run.file, 600);
    scanned.catch(() => undefined); // awaited below; not unhandled if the wait fails first
    // Cut once the cut host is working (it has made calls), mid-campaign.
    const deadline = Date.now() + 120_000;
    while (run.api.scansFrom(cut) < 5) {
      if (Date.now() > deadline) throw new Error('the host to cut made no calls within 120 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    network.setLink(cut, 'redis', false);
    try {
      // Cut until the other hosts have carried the campaign well past the cut host's 2 s
      // leases (its devices then go to them): their progress decides, not a fixed sleep.
      const others = network.hosts.filter((host) => host !== cut);
      const othersScans = () => others.reduce((sum, host) => sum + run.api.scansFrom(host), 0);
      const atCut = othersScans();
      const cutDeadline = Date.now() + 120_000;
      while (othersScans() - atCut < 150) {
        if (Date.now() > cutDeadline)
          throw new Error(`the other hosts made ${othersScans() - atCut} calls in 120 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      network.setLink(cut, 'redis', true);
    }
    const campaignId = await scanned;
    // The campaign was still running when the link came back: the cut was mid-run.
    const atRestore = await admin.hgetall(campaignKeys(run.prefix, campaignId).counts);
    expect(Number(atRestore['queued'] ?? 0) + Number(atRestore['deferred'] ?? 0)).toBeGreaterThan(
      0,
    );
    const done = await waitForCampaignDone(admin, run.prefix, campaignId, {
      timeoutMs: 180_000,
      now: () => Date.now(),
    });
    expect(done.counts['requested']).toBe(600);

    // The cut host's workers carry on without a restart: with the other hosts stopped, they
    // alone scan a second campaign.
    await stopHostWorkers(workers.slice(1));
    const before = run.api.scansFrom(cut);
    await scanAndFinish(run, run.spareFile, 30);
    expect(run.api.scansFrom(cut) - before).toBe(30);
    for (const worker of workers[0]!) expect(worker.process.exitCode).toBeNull();
    await stopHostWorkers(workers);
    expectOneBudget(run);
  }, 400_000);
});
