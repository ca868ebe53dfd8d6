import { CAMPAIGN_COLUMNS, campaignRow } from '../lib/campaign-table.js';
import { resetRedis, type BenchContext } from '../lib/context.js';
import {
  GUARD_MS,
  runFleetscanCampaign,
  type CampaignRun,
  type CampaignSpec,
} from '../lib/fleetscan-campaign.js';
import type { ScenarioResult } from '../lib/report.js';
import { latencyFor } from '../lib/sim-harness.js';

/** ×100: a minute of API time is 600 ms, so 5,000 devices (floor 3 h 04 min) take about 2 min. */
export const FACTOR = 100;

function specs(ctx: BenchContext): CampaignSpec[] {
  if (ctx.options.smoke) return [{ devices: 150, busyShare: 0, factor: FACTOR }];
  const sizes = [400, 1_500, 5_000, ...(ctx.options.large ? [50_000] : [])];
  return [
    ...sizes.map((devices) => ({ devices, busyShare: 0, factor: FACTOR })),
    ...sizes.map((devices) => ({ devices, busyShare: 0.05, factor: FACTOR })),
  ];
}

/** Budget efficiency of the real pipeline for each campaign size, with and without busy devices. */
export async function efficiencyScenario(ctx: BenchContext): Promise<ScenarioResult> {
  await resetRedis(ctx);
  const runs: CampaignRun[] = [];
  for (const spec of specs(ctx)) {
    ctx.progress(
      `efficiency: ${spec.devices} devices, ${spec.busyShare * 100} % busy, ×${spec.factor}`,
    );
    const run = await runFleetscanCampaign(ctx, spec);
    ctx.progress(
      `  span ${Math.round(run.spanMs)} ms, floor ${Math.round(run.floorMs)} ms, 429s ${run.calls.throttled}`,
    );
    runs.push(run);
  }
  const [lo, hi] = latencyFor(FACTOR);
  return {
    scenario: 'efficiency',
    elapsedMs: 0,
    tables: [
      {
        title: `Budget efficiency, fleetscan, two worker processes × 8, time ×${FACTOR}`,
        columns: CAMPAIGN_COLUMNS,
        rows: runs.map(campaignRow),
      },
    ],
    notes: [
      `Time factor ×${FACTOR}: the simulator's windows are 100/${60_000 / FACTOR} ms and 1500/${3_600_000 / FACTOR} ms, counted on arrival, both ends inclusive; fleetscan runs the production defaults divided by ${FACTOR} (pending retry, backoff, polling), guard ${GUARD_MS} ms.`,
      `Reply latency jitter ${lo}–${hi} ms real (0.1–1 s of API time).`,
      '"floor" is the best possible time from the first to the last call for that many calls under both windows; "span" is the same distance measured from the simulator\'s arrival log; "floor/span" is the efficiency. Floor and span are in API time (real × factor).',
      '"first call after" (CLI start to first arrival, includes `fleetscan scan` process start) and "done after last call" (last arrival to every device recorded) are real milliseconds: fixed costs that compression would otherwise inflate ×' +
        String(FACTOR) +
        '.',
      'With 5 % busy devices the span includes their retries (pending retry 5 min of API time, doubling): for small campaigns that wait, not the budget, sets the span.',
      '"reuse delay": median real time from the moment the server would take a slot again (its reply + ' +
        String(60_000 / FACTOR) +
        ' ms) to the arrival of the call that reuses it: guard, the worker seeing the reply, the limiter waking the worker, the next request travelling. It is lost once per cycle of 100 calls, so efficiency ≈ window / (window + reuse delay) once the first burst is past. "longest gap": the longest silence between two consecutive counted arrivals (stalls).',
      '"calls": calls the server counted (busy answers included, 429s not); each is one slot of the budget.',
      '"max in 60 s" / "max in 3600 s": the most calls the server counted in any sliding window of that API-time length (caps 100 and 1500).',
    ],
    data: runs,
  };
}
