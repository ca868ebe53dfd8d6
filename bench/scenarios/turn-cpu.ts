import { mkdtempSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { summariseProfiles, type SelfTime } from '../lib/cpu-profile.js';
import { resetRedis, type BenchContext } from '../lib/context.js';
import { runFleetscanCampaign, type CampaignSpec } from '../lib/fleetscan-campaign.js';
import type { Cell, ScenarioResult } from '../lib/report.js';

/** The efficiency scenario's warm 1,500 ×100 row (2 × 64 places, its 2 ms guard). */
function spec(ctx: BenchContext): CampaignSpec {
  return {
    devices: ctx.options.smoke ? 150 : 1_500,
    busyShare: 0,
    factor: 100,
    concurrency: 64,
    warm: true,
    guardMs: 2,
  };
}

const perCall = (ms: number | null | undefined) => (ms == null ? '–' : `${ms.toFixed(2)} ms`);
const load = () => (loadavg()[0] ?? 0).toFixed(1);

/**
 * Issue 26's "worker CPU per call (profile, start-up excluded)" in about a minute: the warm
 * 1,500 ×100 campaign of the efficiency scenario, once plain (the figure) and once with both
 * workers under the V8 sampling profiler over the same span (where that time goes).
 */
export async function turnCpuScenario(ctx: BenchContext): Promise<ScenarioResult> {
  await resetRedis(ctx);
  const base = spec(ctx);
  ctx.progress(`turn-cpu: ${base.devices} devices ×${base.factor}, warm, 2 × 64, plain`);
  const loadPlain = load();
  const plain = await runFleetscanCampaign(ctx, base, 'fleetscan, plain');
  ctx.progress(
    `  worker CPU per call ${perCall(plain.turnCost?.cpuMsPerCall)} (load ${loadPlain})`,
  );
  await resetRedis(ctx);
  const profileDir = mkdtempSync(join(ctx.workDir, 'cpu-profile-'));
  ctx.progress(`turn-cpu: the same campaign profiled into ${profileDir}`);
  const loadProfiled = load();
  const profiled = await runFleetscanCampaign(
    ctx,
    { ...base, cpuProfileDir: profileDir },
    'fleetscan, profiled',
  );
  const summary = summariseProfiles(profileDir);
  // Shares of the samples times the measured CPU: the profile's own times are wall-clock
  // intervals between samples, which a loaded host stretches while the process waits for a core.
  const cpuPerCall = profiled.turnCost?.cpuMsPerCall ?? null;
  const selfRow = (entry: SelfTime): Cell[] => [
    entry.name,
    `${(entry.share * 100).toFixed(1)} %`,
    cpuPerCall === null ? '–' : perCall(entry.share * cpuPerCall),
  ];
  const runRow = (label: string, loadText: string, run: typeof plain): Cell[] => [
    label,
    run.calls.counted,
    loadText,
    perCall(run.turnCost?.cpuMsPerCall),
    run.turnCost?.redisWritesPerCall == null ? '–' : run.turnCost.redisWritesPerCall.toFixed(2),
    run.efficiency === null ? '–' : run.efficiency.toFixed(3),
  ];
  return {
    scenario: 'turn-cpu',
    elapsedMs: 0,
    tables: [
      {
        title: `Worker CPU per call, ${String(base.devices)} devices ×${String(base.factor)}, warm budget, 2 workers × 64`,
        columns: [
          'run',
          'calls',
          'load (1 min) at start',
          'worker CPU per call',
          'Redis writes per call',
          'floor/span',
        ],
        rows: [runRow('plain', loadPlain, plain), runRow('profiled', loadProfiled, profiled)],
      },
      {
        title: `Where the profiled run's worker CPU went, by place (${String(summary.samples)} samples)`,
        columns: ['place', 'share of samples', 'per call'],
        rows: summary.places.map(selfRow),
      },
      {
        title: 'Top functions by self time (profiled run)',
        columns: ['function', 'share of samples', 'per call'],
        rows: summary.functions.map(selfRow),
      },
    ],
    notes: [
      '"worker CPU per call": as in the efficiency scenario, process.cpuUsage (user + system) of both worker processes from the moment they listen to the end of the campaign (start-up excluded), ÷ the calls the simulator counted; the plain run is the figure, the profiled run pays the sampling profiler on top.',
      "The profile covers the same span (started and stopped by the preload, `bench/lib/turn-cost-preload.ts`, at the two samples), both workers summed; idle samples are left out. A \"place\" is the npm package, fleetscan's module folder (src/…), Node's own JavaScript (node) or V8's entries ((garbage collector), (program): native work outside JavaScript, such as syscalls and the event loop).",
      "The host is shared: the 1-minute load average at each run's start is beside its figure; compare figures only at a similar load.",
    ],
    data: { plain, profiled, profile: summary },
  };
}
