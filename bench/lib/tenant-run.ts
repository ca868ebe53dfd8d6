import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summariseScanCalls, type ScanCallSummary } from './call-analysis.js';
import { resetRedis, usedMemory, type BenchContext } from './context.js';
import { GUARD_MS } from './fleetscan-campaign.js';
import { fleetscanEnv, startFleetscanWorkers } from './fleetscan-runner.js';
import { theoreticalFloorMs } from './floor.js';
import { startChild, type Child, type ProcessCost } from './processes.js';
import { processCpuMs, redisUsage, usageDelta, type RedisUsage } from './redis-usage.js';
import { compressed } from './sim-harness.js';
import { settledCounts, waitTenantsDone } from './tenant-progress.js';
import {
  configureTenants,
  startTenantFleet,
  type BenchTenant,
  type TenantFleetSpec,
} from './tenant-fleet.js';

export interface FleetRunOptions {
  prefix: string;
  /** Turn the two fault tenants' disturbances on (429 storm, revoked secret). */
  faults: boolean;
  workers: number;
  /** `fleetscan worker --concurrency`: devices in progress at once per process. */
  concurrency: number;
  /**
   * Every campaign is in Redis before the workers start (every tenant's schedule fires at the
   * same moment): the Redis figures then cover the workers' drain alone, and the memory of the
   * waiting devices is measured. Otherwise the workers listen first and the campaigns are
   * started one after another while they already work, as an operator starts them.
   */
  enqueueFirst: boolean;
  /** Longest wait for the campaigns (real ms); default 2 min + 3 × the longest floor. */
  timeoutMs?: number;
}

export interface TenantRun {
  name: string;
  cloud: string;
  devices: number;
  fault: BenchTenant['fault'];
  floorMs: number;
  calls: ScanCallSummary;
  efficiency: number | null;
  counts: Record<string, number>;
}

export interface FleetRun {
  faults: boolean;
  tenants: TenantRun[];
  countedCalls: number;
  /** Counted calls of every tenant ÷ first to last counted arrival over all of them, per real s. */
  callsPerSecond: number;
  /** Worker CPU (user + system, every process) from registration to the end, and per call. */
  workerCpuMs: number | null;
  workerCpuMsPerCall: number | null;
  /** Peak resident memory of each worker process. */
  workerPeakRssBytes: number[];
  /** What Redis did from the workers' start (after the enqueue when `enqueueFirst`) to the end. */
  redis: RedisUsage;
  /** used_memory per device once every campaign is in Redis (enqueueFirst only) and at the end. */
  bytesPerWaitingDevice: number | null;
  bytesPerFinishedDevice: number;
  /** CPU of this process meanwhile: the simulators it hosts (and its light polling). */
  simulatorCpuMs: number;
  startCampaignsMs: number;
  /** Workers registered → last required campaign done, real ms. */
  drainMs: number;
  elapsedMs: number;
}

const cpuOf = (cost: ProcessCost | null) => (cost ? cost.cpuUserMs + cost.cpuSystemMs : null);

function sumCpu(costs: readonly (ProcessCost | null)[]): number | null {
  const known = costs.map(cpuOf);
  return known.every((c) => c !== null) ? known.reduce<number>((s, c) => s + c, 0) : null;
}

/** Counted calls of every tenant over the time from the first to the last counted arrival. */
function aggregateRate(runs: readonly TenantRun[]): { counted: number; perSecond: number } {
  let first = Infinity;
  let last = -Infinity;
  let counted = 0;
  for (const run of runs) {
    counted += run.calls.counted;
    if (run.calls.firstArrivalMs !== null) first = Math.min(first, run.calls.firstArrivalMs);
    if (run.calls.lastCountedArrivalMs !== null)
      last = Math.max(last, run.calls.lastCountedArrivalMs);
  }
  return { counted, perSecond: last > first ? (counted * 1_000) / (last - first) : 0 };
}

const CAMPAIGNS_CHILD = fileURLToPath(new URL('./tenant-campaigns-child.js', import.meta.url));

/**
 * One campaign per tenant, started in a child process (see tenant-campaigns-child.ts) so the
 * simulators in this process answer on time meanwhile; with `faults`, the revoked tenant's
 * secret is rotated as soon as its campaign exists (the token it got lives 2 s, then no new one).
 */
async function startCampaignsInChild(
  ctx: BenchContext,
  prefix: string,
  env: NodeJS.ProcessEnv,
  tenants: readonly BenchTenant[],
  faults: boolean,
): Promise<{ ids: string[] }> {
  const plan = join(ctx.workDir, `${prefix}-campaigns.json`);
  writeFileSync(plan, JSON.stringify(tenants.map((t) => ({ tenant: t.name, ids: t.ids }))));
  const child = startChild(process.execPath, [CAMPAIGNS_CHILD, plan], env, 'tenant campaigns');
  const timeoutMs = 120_000 + tenants.length * 200;
  try {
    const revoked = faults ? tenants.find((t) => t.fault === 'revoked-secret') : undefined;
    if (revoked) {
      await child.waitForLine((line) => line.startsWith(`started ${revoked.name} `), timeoutMs);
      revoked.sim.sim.rotateClientSecret('rotated-after-revocation');
    }
    await child.waitForLine((line) => line.startsWith('done '), timeoutMs);
  } finally {
    await child.stop('SIGTERM');
  }
  const ids = child.lines.filter((l) => l.startsWith('started ')).map((l) => l.split(' ')[2]!);
  if (ids.length !== tenants.length)
    throw new Error(`tenant campaigns: ${ids.length} of ${tenants.length} started`);
  return { ids };
}

/**
 * One run of a tenant fleet: fresh simulators (one per tenant) and Redis, `workers` × `fleetscan
 * worker` serving every tenant, one `normal` campaign per tenant started through
 * `startCampaign` (the path behind `fleetscan scan` and the automation API) in this process.
 * Ends when every tenant's devices have a counted call (the fault tenants' only without faults).
 */
export async function runTenantFleet(
  ctx: BenchContext,
  spec: TenantFleetSpec,
  options: FleetRunOptions,
): Promise<FleetRun> {
  const { prefix, faults } = options;
  await resetRedis(ctx);
  const started = performance.now();
  const { tenants, certificatePem } = await startTenantFleet(spec, faults);
  const windows = compressed(spec.windows, spec.factor);
  let workers: Child[] = [];
  try {
    const base = fleetscanEnv({
      redisUrl: ctx.redisUrl,
      prefix,
      apiUrl: 'http://127.0.0.1:9',
      token: '',
      factor: spec.factor,
      windows,
      guardMs: GUARD_MS,
      workDir: ctx.workDir,
      // One campaign per budget measures dispatch against the whole cap.
      reserve: '0',
    });
    // No `default` tenant: every tenant comes from the `tenants:` list.
    delete base['MDE_ACCESS_TOKEN'];
    delete base['MDE_API_URL'];
    const env = {
      ...base,
      ...configureTenants(base['FLEETSCAN_CONFIG'] ?? '', ctx.workDir, tenants, certificatePem),
    };
    const memory0 = await usedMemory(ctx.admin);
    const campaignIds: string[] = [];
    const enqueue = async () => {
      campaignIds.push(...(await startCampaignsInChild(ctx, prefix, env, tenants, faults)).ids);
    };
    const devices = tenants.reduce((n, t) => n + t.devices, 0);
    let startCampaignsMs = 0;
    let bytesPerWaitingDevice: number | null = null;
    const timedEnqueue = async () => {
      const t0 = performance.now();
      await enqueue();
      startCampaignsMs = performance.now() - t0;
    };
    if (options.enqueueFirst) {
      await timedEnqueue();
      bytesPerWaitingDevice = ((await usedMemory(ctx.admin)) - memory0) / devices;
    }
    const redis0 = await redisUsage(ctx.admin);
    const sim0 = processCpuMs();
    workers = await startFleetscanWorkers(
      env,
      options.workers,
      options.concurrency,
      ctx.admin,
      prefix,
    );
    const drainStart = performance.now();
    const worker0 = workers.map((w) => w.cost());
    if (!options.enqueueFirst) await timedEnqueue();
    // The fault tenants never finish in the fault run: the run ends with the healthy ones.
    const required = tenants.filter((t) => !faults || t.fault === 'none');
    const longest = Math.max(...tenants.map((t) => theoreticalFloorMs(t.devices, windows)));
    const timeoutMs = options.timeoutMs ?? 120_000 + longest * 3;
    await waitTenantsDone(tenants, new Set(required.map((t) => t.name)), timeoutMs);
    const drainMs = performance.now() - drainStart;
    const worker1 = workers.map((w) => w.cost());
    const simulatorCpuMs = processCpuMs() - sim0;
    const settled = await settledCounts(
      ctx.admin,
      prefix,
      campaignIds,
      tenants.map((t) => required.includes(t)),
    );
    const redis1 = await redisUsage(ctx.admin);
    const redis = usageDelta(redis0, redis1);
    // Our own reads are not the workers' work.
    redis.commands -= settled.commands + 1;
    redis.perCommand['hgetall'] = (redis.perCommand['hgetall'] ?? 0) - settled.commands;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const bytesPerFinishedDevice = ((await usedMemory(ctx.admin)) - memory0) / devices;

    const runs: TenantRun[] = tenants.map((tenant, i) => {
      const calls = summariseScanCalls(tenant.sim.sim.calls(), windows);
      const floorMs = theoreticalFloorMs(tenant.devices, windows);
      return {
        name: tenant.name,
        cloud: tenant.cloud,
        devices: tenant.devices,
        fault: tenant.fault,
        floorMs,
        calls,
        efficiency: calls.spanMs > 0 ? floorMs / calls.spanMs : null,
        counts: settled.counts[i] ?? {},
      };
    });
    const { counted, perSecond } = aggregateRate(runs);
    const before = sumCpu(worker0);
    const after = sumCpu(worker1);
    const workerCpuMs = before === null || after === null ? null : after - before;
    return {
      faults,
      tenants: runs,
      countedCalls: counted,
      callsPerSecond: perSecond,
      workerCpuMs,
      workerCpuMsPerCall: workerCpuMs === null || counted === 0 ? null : workerCpuMs / counted,
      workerPeakRssBytes: worker1.map((c) => c?.peakRssBytes ?? 0),
      redis,
      bytesPerWaitingDevice,
      bytesPerFinishedDevice,
      simulatorCpuMs,
      startCampaignsMs,
      drainMs,
      elapsedMs: performance.now() - started,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    await Promise.all(tenants.map((t) => t.sim.stop()));
  }
}

/** The q-quantile of an ascending list (nearest rank, low side); null when empty. */
export const quantile = (sorted: readonly number[], q: number): number | null =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** One tenant's figures without the call analysis: what results files keep per tenant. */
export interface TenantBrief {
  name: string;
  cloud: string;
  devices: number;
  fault: BenchTenant['fault'];
  floorMs: number;
  spanMs: number;
  efficiency: number | null;
  counted: number;
  throttled: number;
  duplicates: number;
}

/**
 * A fleet run as results files keep it: per tenant only its brief (a 1,000-tenant run's full
 * call summaries would make `latest.json` megabytes), or no tenants at all.
 */
export function briefRun(run: FleetRun, withTenants = true) {
  const { tenants, ...rest } = run;
  const briefs: TenantBrief[] = tenants.map((t) => ({
    name: t.name,
    cloud: t.cloud,
    devices: t.devices,
    fault: t.fault,
    floorMs: t.floorMs,
    spanMs: t.calls.spanMs,
    efficiency: t.efficiency,
    counted: t.calls.counted,
    throttled: t.calls.throttled,
    duplicates: t.calls.duplicateDevices,
  }));
  return { ...rest, tenants: withTenants ? briefs : [] };
}
