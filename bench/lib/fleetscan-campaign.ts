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
  const calls = summariseScanCalls(api.calls, windows, timing.startedAt);
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
    latencyMs: latencyFor(spec.factor),
    seed: 7,
  };
}

/**
 * The environment of a budget campaign's fleetscan processes: the API's windows and production
 * defaults divided by the factor, the guard above, and no reserve (one campaign alone measures
 * dispatch against the whole cap: nothing kept for urgent work).
 */
export function campaignEnv(
  spec: Pick<CampaignSpec, 'factor'>,
  where: { url: string; token: string; redisUrl: string; prefix: string; workDir: string },
): NodeJS.ProcessEnv {
  return fleetscanEnv({
    redisUrl: where.redisUrl,
    prefix: where.prefix,
    apiUrl: where.url,
    token: where.token,
    factor: spec.factor,
    windows: compressed(MDE_WINDOWS, spec.factor),
    guardMs: GUARD_MS,
    workDir: where.workDir,
    reserve: '0',
  });
}

/**
 * A campaign through the real pipeline: a fresh simulator, two `fleetscan worker` processes
 * (concurrency 8) listening for wake-ups, then `fleetscan scan --devices` as the clock starts.
 */
export async function runFleetscanCampaign(
  ctx: BenchContext,
  spec: CampaignSpec,
  label = 'fleetscan',
): Promise<CampaignRun> {
  const ids = machineIds(spec.devices);
  const file = join(ctx.workDir, `devices-${spec.devices}.txt`);
  await writeIdsFile(file, ids.length, (i) => ids[i]!);
  const api = await startSimulator(simulatorOptionsFor(spec, ids));
  const windows = compressed(MDE_WINDOWS, spec.factor);
  const prefix = `fs${spec.devices}b${Math.round(spec.busyShare * 100)}`;
  const env = campaignEnv(spec, { ...api, redisUrl: ctx.redisUrl, prefix, workDir: ctx.workDir });
  let workers: Child[] = [];
  try {
    workers = await startFleetscanWorkers(env, 2, spec.concurrency ?? 8, ctx.admin, prefix);
    const startedAt = api.sim.now();
    const floorMs = theoreticalFloorMs(spec.devices, windows);
    // Generous: on a loaded host `fleetscan scan` alone can take a minute to start and queue.
    const timeoutMs = 180_000 + floorMs * 4;
    const scan = await runScanCommand(env, file, `bench ${spec.devices}`, timeoutMs);
    const done = await waitForCampaignDone(ctx.admin, prefix, scan.campaignId, {
      timeoutMs,
      now: () => api.sim.now(),
    });
    return campaignRunFrom(
      label,
      spec,
      { calls: api.sim.calls() },
      { startedAt, doneAt: done.doneAt },
      done.counts,
      workers.map((w) => w.cost()),
    );
  } finally {
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    await api.stop();
  }
}
