import type { FleetRun } from './tenant-run.js';

/** A fleet run's figures per call and per core: what a sizing guide multiplies. */
export interface PerCall {
  calls: number;
  /** Counted calls over the time from the first to the last counted arrival, real s. */
  callsPerSecond: number;
  workerCpuMsPerCall: number | null;
  /** Worker CPU over the drain ÷ drain time: cores the worker processes kept busy. */
  workerCores: number | null;
  redisCommandsPerCall: number;
  evalshaPerCall: number;
  redisCpuMsPerCall: number;
  redisCores: number;
  simulatorCores: number;
}

export function perCall(run: FleetRun): PerCall {
  const calls = run.countedCalls;
  const per = (value: number) => (calls > 0 ? value / calls : 0);
  const seconds = run.drainMs / 1_000;
  return {
    calls,
    callsPerSecond: run.callsPerSecond,
    workerCpuMsPerCall: run.workerCpuMsPerCall,
    workerCores: run.workerCpuMs === null ? null : run.workerCpuMs / run.drainMs,
    redisCommandsPerCall: per(run.redis.commands),
    evalshaPerCall: per(run.redis.perCommand['evalsha'] ?? 0),
    redisCpuMsPerCall: per(run.redis.cpuMs),
    redisCores: seconds > 0 ? run.redis.cpuMs / run.drainMs : 0,
    simulatorCores: seconds > 0 ? run.simulatorCpuMs / run.drainMs : 0,
  };
}

/** Per-tenant efficiencies and their rate-weighted sum against the sum of the floors. */
export interface FleetEfficiency {
  /** Σ devices ÷ floor over the tenants: the calls/s the fleet would make at every floor. */
  floorRate: number;
  /** Σ devices ÷ span: the calls/s the tenants made, each over its own span. */
  achievedRate: number;
  /** achievedRate ÷ floorRate (issue 15's "≥ 0.95 of the sum of the tenants' floors"). */
  aggregate: number | null;
  /** Ascending; a tenant without a span (one call) counts as 0. */
  sorted: number[];
}

export function fleetEfficiency(run: FleetRun): FleetEfficiency {
  let floorRate = 0;
  let achievedRate = 0;
  for (const t of run.tenants) {
    if (t.floorMs <= 0) continue;
    floorRate += (t.devices * 1_000) / t.floorMs;
    if (t.calls.spanMs > 0) achievedRate += (t.devices * 1_000) / t.calls.spanMs;
  }
  return {
    floorRate,
    achievedRate,
    aggregate: floorRate > 0 ? achievedRate / floorRate : null,
    sorted: run.tenants.map((t) => t.efficiency ?? 0).sort((a, b) => a - b),
  };
}

/** The MSSP of issue 15: 1,000 tenants × 1,500 calls/h. */
export const MSSP_CALLS_PER_SECOND = (1_000 * 1_500) / 3_600;

/** What a load of `callsPerSecond` needs, from measured per-call costs (linear extrapolation). */
export interface SizingNeeds {
  callsPerSecond: number;
  workerCores: number | null;
  /** Worker processes at ≤ `headroom` of a core each. */
  workerProcesses: number | null;
  redisCoreShare: number;
}

export function sizingFor(
  callsPerSecond: number,
  cost: Pick<PerCall, 'workerCpuMsPerCall' | 'redisCpuMsPerCall'>,
  headroom = 0.5,
): SizingNeeds {
  const workerCores =
    cost.workerCpuMsPerCall === null ? null : (callsPerSecond * cost.workerCpuMsPerCall) / 1_000;
  return {
    callsPerSecond,
    workerCores,
    workerProcesses: workerCores === null ? null : Math.max(1, Math.ceil(workerCores / headroom)),
    redisCoreShare: (callsPerSecond * cost.redisCpuMsPerCall) / 1_000,
  };
}

/** Calls/s at which Redis's one command thread would be busy all the time (extrapolated). */
export const redisCeiling = (redisCpuMsPerCall: number): number | null =>
  redisCpuMsPerCall > 0 ? 1_000 / redisCpuMsPerCall : null;
