import { loadavg } from 'node:os';
import type { RateWindow } from '../../src/config/duration.js';
import type { BenchContext } from '../lib/context.js';
import {
  formatBytes,
  formatCount,
  formatMs,
  formatRatio,
  type Cell,
  type ScenarioResult,
} from '../lib/report.js';
import {
  fleetEfficiency,
  perCall,
  redisCeiling,
  type FleetEfficiency,
  type PerCall,
} from '../lib/scale-figures.js';
import type { TenantFleetSpec } from '../lib/tenant-fleet.js';
import { briefRun, quantile, runTenantFleet, type FleetRun } from '../lib/tenant-run.js';
import { overallVerdict, verdictTable, type Verdict } from '../lib/verdicts.js';
import { measureWaitingCost } from '../lib/waiting-memory.js';
import { scaleNotes, sizingTable } from '../lib/scale-report.js';

const WORKERS = 2;
/** Devices in progress per process: covers the calls in flight at ~1,000 calls/s × 0.1 s. */
const CONCURRENCY = 128;
/** API minute = 12 s real: long against a loaded host's stalls, short enough for 1,000 tenants. */
const FACTOR = 5;
/**
 * Per-tenant minute caps of the paced steps (hour cap 15×, as Microsoft's). 5/min is
 * Microsoft's ÷ 20: 1,000 tenants at ≈ 500 calls/s real, above the MSSP's 417 (issue 15's
 * target). Higher steps run until one falls below 0.95: where this host stops keeping up.
 */
const STEPS = [2, 5, 10, 20] as const;
const TARGET_CAP = 5;
const MIN_EFFICIENCY = 0.95;
/** Devices per tenant in the saturation run, and of the single campaign the memory is read on. */
const SATURATION_DEVICES = 20;
const MEMORY_DEVICES = 100_000;

interface Size {
  tenants: number;
  factor: number;
  steps: readonly number[];
  saturationTenants: number;
  memoryDevices: number;
}

const sizeFor = (ctx: BenchContext): Size =>
  ctx.options.smoke
    ? { tenants: 20, factor: 20, steps: [TARGET_CAP], saturationTenants: 20, memoryDevices: 2_000 }
    : {
        tenants: 1_000,
        factor: FACTOR,
        steps: STEPS,
        saturationTenants: 1_000,
        memoryDevices: MEMORY_DEVICES,
      };

/** Every tenant: `cap`/min and 15 × `cap`/h, campaigns of 3–6 minute windows. */
function stepSpec(size: Size, cap: number): TenantFleetSpec {
  const windows: RateWindow[] = [
    { cap, windowMs: 60_000 },
    { cap: cap * 15, windowMs: 3_600_000 },
  ];
  return {
    tenants: size.tenants,
    smallest: cap * 3,
    largest: cap * 6,
    windows,
    factor: size.factor,
    faultTenants: false,
  };
}

export interface ScaleStep {
  cap: number;
  spec: TenantFleetSpec;
  loadAverage: number;
  run: FleetRun;
  efficiency: FleetEfficiency;
  cost: PerCall;
  holds: boolean;
}

async function runStep(ctx: BenchContext, size: Size, cap: number): Promise<ScaleStep> {
  const spec = stepSpec(size, cap);
  const loadAverage = loadavg()[0] ?? 0;
  ctx.progress(
    `scale: ${spec.tenants} tenants at ${cap}/min ×${spec.factor} (load ${loadAverage.toFixed(1)})`,
  );
  const run = await runTenantFleet(ctx, spec, {
    prefix: `scale-${cap}`,
    faults: false,
    workers: WORKERS,
    concurrency: CONCURRENCY,
    enqueueFirst: false,
  });
  const efficiency = fleetEfficiency(run);
  const throttled = run.tenants.reduce((n, t) => n + t.calls.throttled, 0);
  const holds = (efficiency.aggregate ?? 0) >= MIN_EFFICIENCY && throttled === 0;
  ctx.progress(
    `scale: ${cap}/min: ${Math.round(efficiency.floorRate)} calls/s at the floors, ${formatRatio(efficiency.aggregate)} of it, ${throttled} × 429`,
  );
  return { cap, spec, loadAverage, run, efficiency, cost: perCall(run), holds };
}

/** One worker process, budgets out of reach: the calls/s one process sustains. */
async function saturation(ctx: BenchContext, tenants: number, devicesPerTenant: number) {
  const spec: TenantFleetSpec = {
    tenants,
    smallest: devicesPerTenant,
    largest: devicesPerTenant,
    windows: [{ cap: 1_000_000, windowMs: 60_000 }],
    // ×100: reply latency 1–10 ms, so the process, not the latency, sets the pace.
    factor: 100,
    faultTenants: false,
  };
  const loadAverage = loadavg()[0] ?? 0;
  ctx.progress(
    `scale: saturation, 1 worker × ${CONCURRENCY}, ${tenants} × ${devicesPerTenant} devices (load ${loadAverage.toFixed(1)})`,
  );
  const run = await runTenantFleet(ctx, spec, {
    prefix: 'scale-saturation',
    faults: false,
    workers: 1,
    concurrency: CONCURRENCY,
    enqueueFirst: true,
    timeoutMs: 900_000,
  });
  return { spec, loadAverage, run, cost: perCall(run) };
}

type Saturation = Awaited<ReturnType<typeof saturation>>;

function saturationRow(sat: Saturation): Cell[] {
  return [
    `${formatCount(sat.spec.tenants)} × ${formatCount(sat.spec.smallest)}`,
    sat.cost.calls,
    Math.round(sat.cost.callsPerSecond),
    ...costCells(sat.cost),
    formatBytes(sat.run.bytesPerWaitingDevice),
    formatBytes(sat.run.bytesPerFinishedDevice),
    formatBytes(Math.max(...sat.run.workerPeakRssBytes)),
    sat.loadAverage.toFixed(1),
  ];
}

/** A step as results files keep it: the fleet's figures, no per-tenant detail. */
export function briefStep(step: ScaleStep) {
  const { sorted, ...rates } = step.efficiency;
  return {
    cap: step.cap,
    spec: step.spec,
    loadAverage: step.loadAverage,
    holds: step.holds,
    cost: step.cost,
    efficiency: {
      ...rates,
      lowest: sorted[0] ?? null,
      p5: quantile(sorted, 0.05),
      median: quantile(sorted, 0.5),
      below: sorted.filter((x) => x < MIN_EFFICIENCY).length,
    },
    run: briefRun(step.run, false),
  };
}

export function briefSaturation(sat: Saturation) {
  return { ...sat, run: briefRun(sat.run, false) };
}

/** The per-call cost columns both tables show, and their cells. */
const COST_COLUMNS = [
  'worker CPU per call',
  'worker cores',
  'Redis commands per call',
  'EVALSHA per call',
  'Redis CPU per call',
  'Redis cores',
  'simulator cores',
] as const;

function costCells(c: PerCall): Cell[] {
  return [
    ms2(c.workerCpuMsPerCall),
    cores(c.workerCores),
    c.redisCommandsPerCall.toFixed(1),
    c.evalshaPerCall.toFixed(2),
    ms2(c.redisCpuMsPerCall),
    cores(c.redisCores),
    cores(c.simulatorCores),
  ];
}

/** Three decimals: a fleet at 0.947 must not read as the 0.95 it misses. */
const ratio3 = (value: number | null) => (value === null ? '–' : value.toFixed(3));
const ms2 = (value: number | null) => (value === null ? '–' : `${value.toFixed(2)} ms`);
const cores = (value: number | null) => (value === null ? '–' : value.toFixed(2));

function stepRow(step: ScaleStep): Cell[] {
  const { efficiency: e, cost: c, run } = step;
  return [
    `${step.cap}/min, ${step.cap * 15}/h`,
    Math.round(e.floorRate),
    Math.round(e.achievedRate),
    Math.round(c.callsPerSecond),
    ratio3(e.aggregate),
    formatRatio(e.sorted[0] ?? null),
    formatRatio(quantile(e.sorted, 0.05)),
    formatRatio(quantile(e.sorted, 0.5)),
    e.sorted.filter((x) => x < MIN_EFFICIENCY).length,
    run.tenants.reduce((n, t) => n + t.calls.throttled, 0),
    run.tenants.reduce((n, t) => n + t.calls.duplicateDevices, 0),
    ...costCells(c),
    step.loadAverage.toFixed(1),
    step.holds ? 'holds' : 'does not hold',
  ];
}

/**
 * Issue 15, "bench scale": 1,000 tenants on one pool of worker processes, each at its own
 * compressed windows, against the sum of their floors; what one process and one Redis sustain.
 */
export async function scaleScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const size = sizeFor(ctx);
  const memory = await measureWaitingCost(ctx, size.memoryDevices);
  const sat = await saturation(ctx, size.saturationTenants, SATURATION_DEVICES);
  const satOne = await saturation(ctx, 1, size.saturationTenants * SATURATION_DEVICES);
  const steps: ScaleStep[] = [];
  for (const cap of size.steps) {
    const step = await runStep(ctx, size, cap);
    steps.push(step);
    if (cap >= TARGET_CAP && !step.holds) break;
  }
  const target = steps.find((s) => s.cap === TARGET_CAP);
  const throttled = target?.run.tenants.reduce((n, t) => n + t.calls.throttled, 0) ?? -1;
  const verdicts: Verdict[] = [
    {
      check: `${size.tenants} tenants at ${TARGET_CAP}/min: rate ÷ sum of the floors`,
      target: '≥ 0.95',
      measured: `${ratio3(target?.efficiency.aggregate ?? null)} (${Math.round(target?.efficiency.achievedRate ?? 0)} of ${Math.round(target?.efficiency.floorRate ?? 0)} calls/s)`,
      pass: (target?.efficiency.aggregate ?? 0) >= MIN_EFFICIENCY,
    },
    {
      check: `${size.tenants} tenants at ${TARGET_CAP}/min: 429s`,
      target: '0',
      measured: String(throttled),
      pass: throttled === 0,
    },
  ];
  ctx.progress(`scale: ${overallVerdict(verdicts)}`);
  const held = steps.filter((s) => s.holds);
  const bestHeld = held[held.length - 1] ?? null;
  const ceilingSat = redisCeiling(sat.cost.redisCpuMsPerCall);
  const ceilingTarget = target ? redisCeiling(target.cost.redisCpuMsPerCall) : null;
  const windows = (spec: TenantFleetSpec) =>
    spec.windows.map((w) => `${w.cap}/${formatMs(w.windowMs / spec.factor)}`).join(', ');
  return {
    scenario: 'scale',
    elapsedMs: 0,
    tables: [
      verdictTable(`Issue 15 target: ${overallVerdict(verdicts)}`, verdicts),
      {
        title: `${size.tenants} tenants, one pool of ${WORKERS} worker processes × ${CONCURRENCY}, time ×${size.factor} (an API minute is ${formatMs(60_000 / size.factor)})`,
        columns: [
          'per-tenant caps',
          'calls/s at the floors',
          'calls/s made',
          'calls/s (first to last call)',
          'rate ÷ floors',
          'lowest',
          '5th percentile',
          'median',
          'tenants < 0.95',
          '429s',
          'duplicates',
          ...COST_COLUMNS,
          'load average',
          '≥ 0.95, 0 × 429',
        ],
        rows: steps.map(stepRow),
      },
      {
        title: `One worker process × ${CONCURRENCY}, budgets out of reach (the saturation point): many budgets, then one`,
        columns: [
          'budgets × devices',
          'calls',
          'calls/s',
          ...COST_COLUMNS,
          'Redis per waiting device',
          'Redis per finished device',
          'worker peak RSS',
          'load average',
        ],
        rows: [saturationRow(sat), saturationRow(satOne)],
      },
      {
        title: `One campaign of ${formatCount(memory.devices)} waiting devices (enqueue only)`,
        columns: [
          'Redis per waiting device',
          'enqueue: Redis commands per device',
          'enqueue: Redis CPU per device',
          'enqueue took',
        ],
        rows: [
          [
            formatBytes(memory.bytesPerDevice),
            memory.commandsPerDevice.toFixed(3),
            `${(memory.redisCpuMsPerDevice * 1_000).toFixed(1)} µs`,
            formatMs(memory.enqueueMs),
          ],
        ],
      },
      sizingTable(target?.cost ?? sat.cost, memory.bytesPerDevice, sat.cost.callsPerSecond),
    ],
    notes: scaleNotes({
      tenants: size.tenants,
      factor: size.factor,
      concurrency: CONCURRENCY,
      stepWindows: steps.map((st) => `${st.cap}/min: ${windows(st.spec)}`).join('; '),
      memory,
      saturationCalls: sat.cost.calls,
      bestHeld: bestHeld ? Math.round(bestHeld.efficiency.achievedRate) : null,
      firstFailing: steps.find((st) => !st.holds)?.cap ?? null,
      ceilingSat,
      ceilingTarget,
    }),
    data: {
      size,
      memory,
      saturation: briefSaturation(sat),
      saturationOneBudget: briefSaturation(satOne),
      steps: steps.map(briefStep),
      verdicts,
      ceilingSat,
      ceilingTarget,
    },
  };
}
