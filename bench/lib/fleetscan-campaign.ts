import { join } from 'node:path';
import { summariseScanCalls, efficiency, type ScanCallSummary } from './call-analysis.js';
import type { BenchContext } from './context.js';
import { theoreticalFloorMs } from './floor.js';
import {
  fleetscanEnv,
  runScanCommand,
  startFleetscanWorkers,
  waitForCampaignDone,
} from './fleetscan-runner.js';
import type { Child, ProcessCost } from './processes.js';
import { sampleTurnCost, turnCostBetween, turnCostEnv, type TurnCost } from './turn-cost.js';
import {
  MDE_WINDOWS,
  benchMachines,
  compressed,
  latencyFor,
  machineIds,
  startSimulator,
  writeIdsFile,
} from './sim-harness.js';

/** One campaign of the budget scenarios, run by fleetscan or by an alternative. */
export interface CampaignSpec {
  devices: number;
  busyShare: number;
  factor: number;
  /** `fleetscan worker --concurrency` of each of the two workers (default 8, the config's). */
  concurrency?: number;
  /**
   * A warm budget: the same budget identity ran a campaign of min(devices, the hour's cap)
   * devices before (its verified levels are remembered); the measured campaign meets a fresh
   * simulator and empty windows. Absent: a cold budget (a prefix of its own).
   */
  warm?: boolean;
  /** Guard added to every window, real ms (default `GUARD_MS`). */
  guardMs?: number;
  /** Latency the simulator adds, real ms [min, max] (default `latencyFor(factor)`). */
  latencyMs?: [number, number];
  /**
   * Profile both workers over the measured campaign (start-up and warm-up excluded) into this
   * folder, one `<pid>.cpuprofile` each (`turn-cost-preload.ts`).
   */
  cpuProfileDir?: string;
}

/** What every contender's run reports, so the tables can put them side by side. */
export interface CampaignRun {
  contender: string;
  spec: CampaignSpec;
  /** Real ms from the start (enqueue begins) to the first scan call's arrival. */
  firstCallAfterMs: number | null;
  /** Real ms from the last counted call's arrival until every device was recorded. */
  doneAfterLastCallMs: number | null;
  /** First arrival to last counted arrival, real ms. */
  spanMs: number;
  /** Floor for `devices` calls, real ms at this factor. */
  floorMs: number;
  /** floorMs / spanMs. */
  efficiency: number | null;
  calls: ScanCallSummary;
  /** Device states at the end (fleetscan) or jobs completed/failed (BullMQ). */
  outcome: Record<string, number>;
  workerCost: (ProcessCost | null)[];
  /** fleetscan only: worker CPU and Redis writes per call over the campaign, start-up excluded. */
  turnCost?: TurnCost;
}

/** Guard added to every window: 5 ms, the setting the limiter notes measured at ×100. */
export const GUARD_MS = 5;

/** What the simulator saw between `startedAt` and `doneAt`, as one contender's row. */
export function campaignRunFrom(
  contender: string,
  spec: CampaignSpec,
  api: { calls: Parameters<typeof summariseScanCalls>[0] },
  timing: { startedAt: number; doneAt: number },
  outcome: Record<string, number>,
  workerCost: (ProcessCost | null)[],
): CampaignRun {
  const windows = compressed(MDE_WINDOWS, spec.factor);
  const calls = summariseScanCalls(api.calls, windows, timing.startedAt, spec.guardMs ?? GUARD_MS);
  return {
    contender,
    spec,
    firstCallAfterMs:
      calls.firstArrivalMs === null ? null : calls.firstArrivalMs - timing.startedAt,
    doneAfterLastCallMs:
      calls.lastCountedArrivalMs === null ? null : timing.doneAt - calls.lastCountedArrivalMs,
    spanMs: calls.spanMs,
    floorMs: theoreticalFloorMs(spec.devices, windows),
    efficiency: efficiency(spec.devices, windows, calls.spanMs),
    calls,
    outcome,
    workerCost,
  };
}

/** The simulator every contender meets: strict arrival-counted sliding windows, jittered latency. */
export function simulatorOptionsFor(spec: CampaignSpec, ids: readonly string[]) {
  // For diagnosis: BENCH_CALL_LOG_DIR keeps every simulator call log as NDJSON.
  const logDir = process.env['BENCH_CALL_LOG_DIR'];
  return {
    ...(logDir ? { callLogFile: join(logDir, `calls-${spec.devices}-${Date.now()}.ndjson`) } : {}),
    machines: benchMachines(ids, spec.busyShare),
    timeScale: spec.factor,
    rateLimits: MDE_WINDOWS,
    latencyMs: spec.latencyMs ?? latencyFor(spec.factor),
    seed: 7,
  };
}

/** What one `fleetscan scan` against a fresh simulator left: the calls, the times, the counts. */
interface CampaignOnce {
  api: { calls: Parameters<typeof summariseScanCalls>[0] };
  startedAt: number;
  doneAt: number;
  counts: Record<string, number>;
  workerCost: (ProcessCost | null)[];
  turnCost: TurnCost;
}

/**
 * The environment of a budget campaign's fleetscan processes: the API's windows and production
 * defaults divided by the factor, the guard above, and no reserve (one campaign alone measures
 * dispatch against the whole cap: nothing kept for urgent work).
 */
export function campaignEnv(
  spec: Pick<CampaignSpec, 'factor' | 'guardMs'>,
  where: { url: string; token: string; redisUrl: string; prefix: string; workDir: string },
): NodeJS.ProcessEnv {
  return fleetscanEnv({
    redisUrl: where.redisUrl,
    prefix: where.prefix,
    apiUrl: where.url,
    token: where.token,
    factor: spec.factor,
    windows: compressed(MDE_WINDOWS, spec.factor),
    guardMs: spec.guardMs ?? GUARD_MS,
    workDir: where.workDir,
    reserve: '0',
  });
}

/**
 * One campaign through the real pipeline: a fresh simulator, two `fleetscan worker` processes
 * listening for wake-ups, then `fleetscan scan --devices` as the clock starts.
 */
async function campaignOnce(
  ctx: BenchContext,
  spec: CampaignSpec,
  ids: readonly string[],
  prefix: string,
  label: string,
): Promise<CampaignOnce> {
  const file = join(ctx.workDir, `devices-${prefix}-${ids.length}.txt`);
  await writeIdsFile(file, ids.length, (i) => ids[i]!);
  const api = await startSimulator(simulatorOptionsFor(spec, ids));
  const windows = compressed(MDE_WINDOWS, spec.factor);
  const env = campaignEnv(spec, { ...api, redisUrl: ctx.redisUrl, prefix, workDir: ctx.workDir });
  let workers: Child[] = [];
  try {
    workers = await startFleetscanWorkers(
      turnCostEnv(env, ctx.redisUrl, spec.cpuProfileDir),
      2,
      spec.concurrency ?? 8,
      ctx.admin,
      prefix,
    );
    // Start-up (imports, connections, script loads) is done once the workers listen.
    const costBefore = await sampleTurnCost(workers);
    const startedAt = api.sim.now();
    const floorMs = theoreticalFloorMs(ids.length, windows);
    // Generous: on a loaded host `fleetscan scan` alone can take a minute to start and queue.
    const timeoutMs = 180_000 + floorMs * 4;
    const scan = await runScanCommand(env, file, label, timeoutMs);
    const done = await waitForCampaignDone(ctx.admin, prefix, scan.campaignId, {
      timeoutMs,
      now: () => api.sim.now(),
    });
    const costAfter = await sampleTurnCost(workers);
    const calls = api.sim.calls();
    const counted = calls.filter((c) => c.family === 'scan' && c.status !== 429).length;
    return {
      api: { calls },
      startedAt,
      doneAt: done.doneAt,
      counts: done.counts,
      workerCost: workers.map((w) => w.cost()),
      turnCost: turnCostBetween(costBefore, costAfter, counted),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    await api.stop();
  }
}

/**
 * What an hour without calls leaves of a budget: the window logs, the calls in flight, the
 * pause and the known-good levels (kept one window after the last success) are gone; the
 * adaptive state and the caps hash with its verified levels (kept for a day) stay.
 */
async function ageBudget(ctx: BenchContext, prefix: string): Promise<string[]> {
  const kept: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await ctx.admin.scan(cursor, 'MATCH', `${prefix}:budget:*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      if (key.endsWith(':caps') || key.endsWith(':adaptive')) kept.push(key);
      else await ctx.admin.del(key);
    }
  } while (cursor !== '0');
  return kept;
}

/**
 * A campaign through the real pipeline (see `campaignOnce`). A warm spec first runs the
 * warm-up campaign on the same budget identity and ages the budget by an hour (`ageBudget`).
 */
export async function runFleetscanCampaign(
  ctx: BenchContext,
  spec: CampaignSpec,
  label = 'fleetscan',
): Promise<CampaignRun> {
  const ids = machineIds(spec.devices);
  const busy = Math.round(spec.busyShare * 100);
  const prefix = `fs${spec.devices}b${busy}x${spec.factor}c${spec.concurrency ?? 8}${spec.warm ? 'w' : 'k'}`;
  if (spec.warm) {
    const hourCap = MDE_WINDOWS.at(-1)?.cap ?? spec.devices;
    const warmIds = ids.slice(0, Math.min(spec.devices, hourCap));
    ctx.progress(`  warm-up: ${warmIds.length} devices on the same budget`);
    const warmSpec = { ...spec, busyShare: 0, cpuProfileDir: undefined };
    await campaignOnce(ctx, warmSpec, warmIds, prefix, `warm-up ${spec.devices}`);
    const kept = await ageBudget(ctx, prefix);
    const verified = await Promise.all(kept.map((key) => ctx.admin.hgetall(key)));
    ctx.progress(`  budget aged an hour, kept: ${JSON.stringify(verified)}`);
  }
  const run = await campaignOnce(ctx, spec, ids, prefix, `bench ${spec.devices}`);
  return {
    ...campaignRunFrom(
      label,
      spec,
      run.api,
      { startedAt: run.startedAt, doneAt: run.doneAt },
      run.counts,
      run.workerCost,
    ),
    turnCost: run.turnCost,
  };
}
