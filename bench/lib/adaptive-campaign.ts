import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { RateWindow } from '../../src/config/duration.js';
import { budgetIdFor } from '../../src/limiter/budget-id.js';
import { budgetKeys } from '../../src/limiter/budget-keys.js';
import type { CallRecord } from '../../src/simulator/build-simulator.js';
import type { BenchContext } from './context.js';
import { GUARD_MS, simulatorOptionsFor } from './fleetscan-campaign.js';
import { theoreticalFloorMs } from './floor.js';
import {
  fleetscanEnv,
  runScanCommand,
  startFleetscanWorkers,
  waitForCampaignDone,
} from './fleetscan-runner.js';
import type { Child } from './processes.js';
import {
  MDE_WINDOWS,
  compressed,
  machineIds,
  startSimulator,
  writeIdsFile,
} from './sim-harness.js';

/** One run of the adaptive scenario: a server whose real budget is below what fleetscan is told. */
export interface AdaptiveSpec {
  label: string;
  devices: number;
  factor: number;
  /** The server's real windows, API time (fleetscan is configured with MDE_WINDOWS). */
  serverWindows: readonly RateWindow[];
  /** An invisible consumer: `perMinute` calls of the scan budget for `forMs` (API time), then 0. */
  otherConsumer?: { perMinute: number; forMs: number };
  /** `limits.adaptive` overrides (YAML lines under it), e.g. `enabled: false`. */
  adaptive?: readonly string[];
}

export interface AdaptiveRun {
  spec: AdaptiveSpec;
  calls: number;
  counted: number;
  throttled: number;
  /** Arrivals of the 429s, API ms since the first call, each with the counted calls before it. */
  throttledAt: { atMs: number; countedBefore: number }[];
  /** First to last counted arrival, real ms. */
  spanMs: number;
  /** First counted arrival to the configured minute cap's worth of counted calls, real ms. */
  firstBurstMs: number;
  /** Floor for `devices` calls under the server's real windows (real ms). */
  floorMs: number;
  /** Effective caps of the minute window over time: [API ms since the first call, cap]. */
  capTimeline: [number, number][];
  lowestCap: number | null;
  /** "effective cap lowered" warnings the workers logged. */
  decreaseLogs: number;
  consumer: { counted: number; throttled: number };
  /** After the other consumer stopped: our counted calls and their rate against the full cap. */
  secondHalf: {
    calls: number;
    /** Calls done when the consumer stopped. */
    callsBefore: number;
    spanMs: number;
    /** Calls per API minute / the configured minute cap. */
    shareOfFullCap: number | null;
    throttled: number;
  } | null;
  outcome: Record<string, number>;
}

/**
 * The real pipeline (two `fleetscan worker` × 8, then `fleetscan scan`) against a simulator
 * with the given real windows and other consumer; the simulator's log is the ground truth.
 */
export async function runAdaptiveCampaign(
  ctx: BenchContext,
  spec: AdaptiveSpec,
): Promise<AdaptiveRun> {
  const ids = machineIds(spec.devices);
  const file = join(ctx.workDir, `adaptive-${spec.devices}.txt`);
  await writeIdsFile(file, ids.length, (i) => ids[i]!);
  const base = simulatorOptionsFor(
    { devices: spec.devices, busyShare: 0, factor: spec.factor },
    ids,
  );
  const api = await startSimulator({
    ...base,
    rateLimits: spec.serverWindows,
    ...(spec.otherConsumer
      ? {
          otherConsumer: {
            schedule: [
              { perMinute: spec.otherConsumer.perMinute, forMs: spec.otherConsumer.forMs },
              { perMinute: 0 },
            ],
            startsAt: 'first-call' as const,
          },
        }
      : {}),
  });
  const windows = compressed(MDE_WINDOWS, spec.factor);
  const prefix = `ad${spec.devices}${spec.label.replace(/[^a-z0-9]/gi, '').slice(0, 12)}`;
  const env = fleetscanEnv({
    redisUrl: ctx.redisUrl,
    prefix,
    apiUrl: api.url,
    token: api.token,
    factor: spec.factor,
    windows,
    guardMs: GUARD_MS,
    workDir: ctx.workDir,
    // Issue 17's targets are shares of the whole budget: no urgent reserve (issue 10) held back.
    reserve: '0',
  });
  if (spec.adaptive) {
    const config = env['FLEETSCAN_CONFIG']!;
    const text = readFileSync(config, 'utf8');
    writeFileSync(
      config,
      text.replace(
        '  adaptive:\n',
        `  adaptive:\n${spec.adaptive.map((l) => `    ${l}\n`).join('')}`,
      ),
    );
  }
  const budgetId = budgetIdFor({
    defender: { cloud: 'commercial', tenantId: undefined, clientId: undefined },
  });
  const capsKey = budgetKeys(prefix, budgetId, 'scan', windows).caps;
  const minuteField = String(windows[0]!.windowMs);
  let workers: Child[] = [];
  const logCounts = { lowered: 0 };
  const samples: [number, number][] = [];
  const sampling = { on: true };
  const sampler = (async () => {
    while (sampling.on) {
      const raw = await ctx.admin.hget(capsKey, minuteField);
      const cap = raw === null ? windows[0]!.cap : Number(raw);
      if (samples.at(-1)?.[1] !== cap) samples.push([api.sim.now(), cap]);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    workers = await startFleetscanWorkers(env, 2, 8, ctx.admin, prefix);
    // Workers log to stderr, whose tail alone the Child keeps: count every line here.
    for (const worker of workers) {
      createInterface({ input: worker.process.stderr! }).on('line', (line) => {
        if (line.includes('effective cap lowered')) logCounts.lowered++;
      });
    }
    const startedAt = api.sim.now();
    const floorMs = theoreticalFloorMs(spec.devices, compressed(spec.serverWindows, spec.factor));
    const timeoutMs = 120_000 + floorMs * 4;
    const scan = await runScanCommand(env, file, `adaptive ${spec.label}`, timeoutMs);
    const done = await waitForCampaignDone(ctx.admin, prefix, scan.campaignId, {
      timeoutMs,
      now: () => api.sim.now(),
    });
    sampling.on = false;
    await sampler;
    const scans = api.sim.calls().filter((c) => c.family === 'scan' && c.t >= startedAt);
    // The consumer's schedule starts with the first API call (the simulator's arrival stamp).
    const firstApiCall = api.sim.calls().reduce((min, c) => Math.min(min, c.t), Infinity);
    const consumerStopAt =
      spec.otherConsumer && Number.isFinite(firstApiCall)
        ? firstApiCall + spec.otherConsumer.forMs / spec.factor
        : null;
    return analyse(spec, scans, {
      floorMs,
      consumerStopAt,
      samples,
      consumer: api.sim.otherConsumer(),
      decreaseLogs: logCounts.lowered,
      outcome: done.counts,
    });
  } finally {
    sampling.on = false;
    await sampler.catch(() => undefined);
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    await api.stop();
  }
}

function analyse(
  spec: AdaptiveSpec,
  scans: readonly CallRecord[],
  facts: {
    floorMs: number;
    consumerStopAt: number | null;
    samples: [number, number][];
    consumer: { counted: number; throttled: number };
    decreaseLogs: number;
    outcome: Record<string, number>;
  },
): AdaptiveRun {
  const counted = scans.filter((c) => c.status !== 429).map((c) => c.t);
  counted.sort((a, b) => a - b);
  const first = scans.reduce((min, c) => Math.min(min, c.t), Infinity);
  const last = counted.at(-1) ?? first;
  const stop = facts.consumerStopAt;
  let secondHalf: AdaptiveRun['secondHalf'] = null;
  if (stop !== null) {
    const after = counted.filter((t) => t > stop);
    const spanMs = after.length > 0 ? last - stop : 0;
    const perApiMinute = spanMs > 0 ? after.length / ((spanMs * spec.factor) / 60_000) : null;
    const fullCap = MDE_WINDOWS[0]!.cap;
    secondHalf = {
      calls: after.length,
      callsBefore: counted.length - after.length,
      spanMs,
      shareOfFullCap: perApiMinute === null ? null : perApiMinute / fullCap,
      throttled: scans.filter((c) => c.status === 429 && c.t > stop).length,
    };
  }
  const caps = facts.samples.map(([, cap]) => cap);
  return {
    spec,
    calls: scans.length,
    counted: counted.length,
    throttled: scans.length - counted.length,
    throttledAt: scans
      .filter((c) => c.status === 429)
      .map((c) => ({
        atMs: Math.round((c.t - first) * spec.factor),
        countedBefore: counted.filter((t) => t < c.t).length,
      })),
    spanMs: Number.isFinite(first) ? last - first : 0,
    firstBurstMs:
      counted.length >= MDE_WINDOWS[0]!.cap ? counted[MDE_WINDOWS[0]!.cap - 1]! - counted[0]! : 0,
    floorMs: facts.floorMs,
    capTimeline: facts.samples.map(([t, cap]) => [
      Math.round(((t - (Number.isFinite(first) ? first : t)) * spec.factor) / 1000) * 1000,
      cap,
    ]),
    lowestCap: caps.length > 0 ? Math.min(...caps) : null,
    decreaseLogs: facts.decreaseLogs,
    consumer: facts.consumer,
    secondHalf,
    outcome: facts.outcome,
  };
}
