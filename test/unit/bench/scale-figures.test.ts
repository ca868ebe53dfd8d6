import { describe, expect, it } from 'vitest';
import { usageDelta } from '../../../bench/lib/redis-usage.js';
import {
  fleetEfficiency,
  perCall,
  redisCeiling,
  sizingFor,
} from '../../../bench/lib/scale-figures.js';
import type { FleetRun, TenantRun } from '../../../bench/lib/tenant-run.js';
import type { ScanCallSummary } from '../../../bench/lib/call-analysis.js';

const summary = (spanMs: number, counted: number): ScanCallSummary => ({
  calls: counted,
  counted,
  throttled: 0,
  devicesWithAction: counted,
  duplicateDevices: 0,
  firstArrivalMs: 0,
  lastCountedArrivalMs: spanMs,
  spanMs,
  maxInWindow: [],
  firstBurstSpreadMs: null,
  medianReuseDelayMs: null,
  longestGapMs: null,
  longestStallMs: null,
  noOverheadSpanMs: spanMs,
});

const tenant = (devices: number, floorMs: number, spanMs: number): TenantRun => ({
  name: `t${devices}`,
  cloud: 'commercial',
  devices,
  fault: 'none',
  floorMs,
  calls: summary(spanMs, devices),
  efficiency: spanMs > 0 ? floorMs / spanMs : null,
  counts: {},
});

const run = (tenants: TenantRun[], extra: Partial<FleetRun> = {}): FleetRun => ({
  faults: false,
  tenants,
  countedCalls: tenants.reduce((n, t) => n + t.devices, 0),
  callsPerSecond: 0,
  workerCpuMs: null,
  workerCpuMsPerCall: null,
  workerPeakRssBytes: [],
  redis: { commands: 0, perCommand: {}, cpuMs: 0, usedMemory: 0 },
  bytesPerWaitingDevice: null,
  bytesPerFinishedDevice: 0,
  simulatorCpuMs: 0,
  startCampaignsMs: 0,
  drainMs: 1_000,
  elapsedMs: 0,
  ...extra,
});

describe('fleetEfficiency', () => {
  it('weights each tenant by the rate its floor allows', () => {
    // 10 calls/s at the floor, made at 5/s; 1 call/s at the floor, made at 1/s.
    const e = fleetEfficiency(run([tenant(100, 10_000, 20_000), tenant(10, 10_000, 10_000)]));
    expect(e.floorRate).toBeCloseTo(11);
    expect(e.achievedRate).toBeCloseTo(6);
    expect(e.aggregate).toBeCloseTo(6 / 11);
    expect(e.sorted).toEqual([0.5, 1]);
  });

  it('counts a tenant that made no span as 0 and leaves floorless tenants out of the sums', () => {
    const e = fleetEfficiency(run([tenant(1, 0, 0), tenant(10, 1_000, 0)]));
    expect(e.floorRate).toBeCloseTo(10);
    expect(e.achievedRate).toBe(0);
    expect(e.aggregate).toBe(0);
    expect(e.sorted).toEqual([0, 0]);
  });
});

describe('perCall', () => {
  it('divides Redis and worker figures by counted calls and by the drain time', () => {
    const figures = perCall(
      run([tenant(100, 1, 1), tenant(100, 1, 1)], {
        workerCpuMs: 400,
        workerCpuMsPerCall: 2,
        drainMs: 2_000,
        simulatorCpuMs: 100,
        redis: { commands: 5_000, perCommand: { evalsha: 300 }, cpuMs: 50, usedMemory: 0 },
      }),
    );
    expect(figures).toMatchObject({
      calls: 200,
      workerCores: 0.2,
      redisCommandsPerCall: 25,
      evalshaPerCall: 1.5,
      redisCpuMsPerCall: 0.25,
      redisCores: 0.025,
      simulatorCores: 0.05,
    });
  });
});

describe('sizing', () => {
  it('scales per-call CPU to a load and rounds processes up at half a core each', () => {
    const need = sizingFor(417, { workerCpuMsPerCall: 1.5, redisCpuMsPerCall: 0.2 });
    expect(need.workerCores).toBeCloseTo(0.6255);
    expect(need.workerProcesses).toBe(2);
    expect(need.redisCoreShare).toBeCloseTo(0.0834);
  });

  it('gives the calls/s at which one Redis thread is busy all the time', () => {
    expect(redisCeiling(0.25)).toBe(4_000);
    expect(redisCeiling(0)).toBeNull();
  });
});

describe('usageDelta', () => {
  it('subtracts every counter and counts commands first seen later from zero', () => {
    const delta = usageDelta(
      { commands: 10, perCommand: { hget: 4 }, cpuMs: 5, usedMemory: 100 },
      { commands: 30, perCommand: { hget: 9, evalsha: 3 }, cpuMs: 8, usedMemory: 90 },
    );
    expect(delta).toEqual({
      commands: 20,
      perCommand: { hget: 5, evalsha: 3 },
      cpuMs: 3,
      usedMemory: -10,
    });
  });
});
