import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RateWindow } from '../../src/config/duration.js';
import { campaignKeys } from '../../src/campaigns/campaign-keys.js';
import { wakeChannel } from '../../src/lanes/lane-keys.js';
import { paths } from './context.js';
import { runChild, startChild, type Child, type ProcessCost } from './processes.js';

export interface FleetscanSettings {
  redisUrl: string;
  prefix: string;
  apiUrl: string;
  token: string;
  /** Time factor: every duration of the production defaults is divided by it. */
  factor: number;
  windows: readonly RateWindow[];
  /** Added to every window (real ms); see the scenario notes for the value used. */
  guardMs: number;
  workDir: string;
  /** `limits.reserve` (`FLEETSCAN_RATE_RESERVE`); the configuration's default when absent. */
  reserve?: string;
  /**
   * Extra `limits.adaptive` lines (e.g. `probeInflight: 8`); the default is
   * `BENCH_ADAPTIVE_CONFIG` (`;`-separated), so a candidate rule is measured by every scenario.
   */
  adaptive?: readonly string[];
}

const windowsText = (windows: readonly RateWindow[]) =>
  windows.map((w) => `${w.cap}/${Math.max(1, Math.round(w.windowMs))}ms`).join(',');

/** `BENCH_ADAPTIVE_CONFIG="probeInflight: 8;hold: 2s"`: `limits.adaptive` lines for every run. */
function adaptiveFromEnv(): string[] {
  const text = process.env['BENCH_ADAPTIVE_CONFIG'];
  return text
    ? text
        .split(';')
        .map((line) => line.trim())
        .filter((line) => line !== '')
    : [];
}

/**
 * The environment of every fleetscan child: a config file holding the production defaults
 * compressed by the time factor, and nothing inherited that could point it elsewhere.
 */
export function fleetscanEnv(settings: FleetscanSettings): NodeJS.ProcessEnv {
  const f = settings.factor;
  const adaptive = settings.adaptive ?? adaptiveFromEnv();
  const ms = (apiMs: number) => `${Math.max(1, Math.round(apiMs / f))}ms`;
  const file = join(settings.workDir, `fleetscan-${settings.prefix}.yaml`);
  // A crashed call's slot (limits.lease, 2 min) would hold a compressed run for minutes of real
  // time; the request timeout it must cover shrinks with it, never below 5 s for a loaded host.
  const requestTimeoutMs = Math.max(5_000, Math.round(30_000 / f));
  writeFileSync(
    file,
    [
      'defender:',
      `  requestTimeout: ${String(requestTimeoutMs)}ms`,
      'limits:',
      `  lease: ${String(2 * requestTimeoutMs)}ms`,
      `  throttleDefault: ${ms(60_000)}`,
      '  adaptive:',
      ...adaptive.map((line) => `    ${line}`),
      `    min: 10/${ms(60_000)}`,
      `    hold: ${ms(60_000)}`,
      `    holdMax: ${ms(8 * 60_000)}`,
      `    increaseEvery: ${ms(5_000)}`,
      'scan:',
      `  backoff: ${ms(5_000)}`,
      `  pendingRetry: ${ms(5 * 60_000)}`,
      `  pendingRetryCap: ${ms(30 * 60_000)}`,
      `  pendingMaxWait: ${ms(24 * 3_600_000)}`,
      `  actionPoll: ${ms(2 * 60_000)}`,
      '',
    ].join('\n'),
  );
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !/^(FLEETSCAN_|MDE_|REDIS_URL$|LOG_LEVEL$)/.test(key),
    ),
  );
  return {
    ...inherited,
    FLEETSCAN_CONFIG: file,
    REDIS_URL: settings.redisUrl,
    FLEETSCAN_PREFIX: settings.prefix,
    FLEETSCAN_BUDGET_PREFIX: settings.prefix,
    MDE_API_URL: settings.apiUrl,
    MDE_ACCESS_TOKEN: settings.token,
    FLEETSCAN_RATE_LIMITS: windowsText(settings.windows),
    FLEETSCAN_RATE_GUARD: `${settings.guardMs}ms`,
    ...(settings.reserve === undefined ? {} : { FLEETSCAN_RATE_RESERVE: settings.reserve }),
    LOG_LEVEL: 'warn',
  };
}

/**
 * Starts `fleetscan worker` child processes and waits until all of them listen for wake-ups,
 * so a campaign's clock starts with the workers listening (but not warmed up).
 */
export async function startFleetscanWorkers(
  env: NodeJS.ProcessEnv,
  count: number,
  concurrency: number,
  redis: Redis,
  prefix: string,
): Promise<Child[]> {
  const workers = Array.from({ length: count }, (_, i) =>
    startChild(
      process.execPath,
      [paths.cli, 'worker', '--concurrency', String(concurrency)],
      env,
      `fleetscan worker ${i + 1}`,
    ),
  );
  try {
    await waitForWorkers(redis, prefix, count, workers);
  } catch (error) {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    throw error;
  }
  return workers;
}

/** Polls the lanes' wake-up channel (PUBSUB NUMSUB) until `count` workers listen on it. */
export async function waitForWorkers(
  redis: Redis,
  prefix: string,
  count: number,
  children: readonly Child[],
  // Generous: on a loaded 2-core host a Node process alone can take 10 s to start.
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = (await redis.call('PUBSUB', 'NUMSUB', wakeChannel(prefix))) as [string, number];
    if (reply[1] >= count) return;
    const dead = children.find((c) => c.process.exitCode !== null);
    if (dead) throw new Error(`a worker exited early: ${dead.stderr.slice(-5).join(' | ')}`);
    if (Date.now() > deadline)
      throw new Error(`${count} workers did not register within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls BullMQ's worker registry (CLIENT LIST) until `count` workers serve `queueName` (alternatives). */
export async function waitForQueueWorkers(
  redis: Redis,
  prefix: string,
  queueName: string,
  count: number,
  children: readonly Child[],
  timeoutMs = 30_000,
): Promise<void> {
  // BullMQ leaves a connection it was given open on close(): ours to disconnect.
  const connection = redis.duplicate();
  const queue = new Queue(queueName, { connection, prefix });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if ((await queue.getWorkersCount()) >= count) return;
      const dead = children.find((c) => c.process.exitCode !== null);
      if (dead) throw new Error(`a worker exited early: ${dead.stderr.slice(-5).join(' | ')}`);
      if (Date.now() > deadline)
        throw new Error(`${count} workers did not register within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

export interface ScanCommandResult {
  campaignId: string;
  accepted: number;
  elapsedMs: number;
  /** CPU and peak RSS of the scan process (sampled while it ran). */
  cost: ProcessCost | null;
  output: unknown;
}

/** `fleetscan scan --devices FILE --json`, as an operator runs it; the real enqueue path. */
export async function runScanCommand(
  env: NodeJS.ProcessEnv,
  devicesFile: string,
  name: string,
  timeoutMs: number,
  extraArgs: readonly string[] = [],
): Promise<ScanCommandResult> {
  const { lines, elapsedMs, cost } = await runChild(
    process.execPath,
    [
      paths.cli,
      'scan',
      '--devices',
      devicesFile,
      '--comment',
      'fleetscan bench',
      '--name',
      name,
      '--json',
      ...extraArgs,
    ],
    env,
    `fleetscan scan (${name})`,
    timeoutMs,
  );
  const output = JSON.parse(lines.join('\n')) as {
    campaignId?: unknown;
    accepted?: unknown;
    counts?: { accepted?: unknown };
  };
  if (typeof output.campaignId !== 'string')
    throw new Error(`scan --json printed no campaignId: ${lines.join(' ')}`);
  const accepted = Number(output.accepted ?? output.counts?.accepted ?? Number.NaN);
  return { campaignId: output.campaignId, accepted, elapsedMs, cost, output };
}

/** Device counts per state, read from the campaign's counts hash (docs/design.md keys). */
export async function campaignCounts(
  redis: Redis,
  prefix: string,
  campaignId: string,
): Promise<Record<string, number>> {
  const raw = await redis.hgetall(campaignKeys(prefix, campaignId).counts);
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
}

/**
 * Waits until no device of the campaign is queued or deferred; resolves with the moment (on
 * `now`, the simulator's clock) that was first seen. Polling every `pollMs` costs Redis little.
 */
export async function waitForCampaignDone(
  redis: Redis,
  prefix: string,
  campaignId: string,
  options: { timeoutMs: number; now: () => number; pollMs?: number },
): Promise<{ doneAt: number; counts: Record<string, number> }> {
  const { timeoutMs, now, pollMs = 50 } = options;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const counts = await campaignCounts(redis, prefix, campaignId);
    const open = (counts['queued'] ?? 0) + (counts['deferred'] ?? 0);
    const total = Object.entries(counts)
      .filter(([k]) => ['queued', 'deferred', 'requested', 'failed', 'cancelled'].includes(k))
      .reduce((sum, [, v]) => sum + v, 0);
    if (total > 0 && open === 0) return { doneAt: now(), counts };
    if (performance.now() > deadline) {
      throw new Error(
        `campaign ${campaignId} not done within ${timeoutMs} ms: ${JSON.stringify(counts)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
