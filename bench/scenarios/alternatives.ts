import { runBullmqCampaign, runPLimitCampaign } from '../lib/alternative-campaigns.js';
import { CAMPAIGN_COLUMNS, campaignRow } from '../lib/campaign-table.js';
import { resetRedis, type BenchContext } from '../lib/context.js';
import {
  runFleetscanCampaign,
  type CampaignRun,
  type CampaignSpec,
} from '../lib/fleetscan-campaign.js';
import type { ScenarioResult } from '../lib/report.js';

/** ×100: 25/min needs 60 min of API time for 1,500 devices, 36 s real. */
const FACTOR = 100;

function specs(ctx: BenchContext): CampaignSpec[] {
  if (ctx.options.smoke) return [{ devices: 150, busyShare: 0, factor: FACTOR }];
  return [
    { devices: 1_500, busyShare: 0, factor: FACTOR },
    ...(ctx.options.large ? [{ devices: 5_000, busyShare: 0, factor: 200 }] : []),
  ];
}

/** fleetscan next to BullMQ's limiter at 100 and 25 per minute and a p-limit loop, same fleet. */
export async function alternativesScenario(ctx: BenchContext): Promise<ScenarioResult> {
  await resetRedis(ctx);
  const runs: CampaignRun[] = [];
  for (const spec of specs(ctx)) {
    const contenders: [string, () => Promise<CampaignRun>][] = [
      ['fleetscan', () => runFleetscanCampaign(ctx, spec)],
      ['BullMQ limiter 100/min', () => runBullmqCampaign(ctx, spec, 100)],
      ['BullMQ limiter 25/min', () => runBullmqCampaign(ctx, spec, 25)],
      ['p-limit loop', () => runPLimitCampaign(ctx, spec)],
    ];
    for (const [name, run] of contenders) {
      ctx.progress(`alternatives: ${name}, ${spec.devices} devices`);
      const result = await run();
      ctx.progress(`  span ${Math.round(result.spanMs)} ms, 429s ${result.calls.throttled}`);
      runs.push(result);
    }
  }
  return {
    scenario: 'alternatives',
    elapsedMs: 0,
    tables: [
      {
        title: `fleetscan against the alternatives, same fleet and simulator, time ×${FACTOR}`,
        columns: CAMPAIGN_COLUMNS,
        rows: runs.map(campaignRow),
      },
    ],
    notes: [
      'Each contender meets a fresh simulator with the same fleet, windows and latency as the efficiency scenario.',
      'BullMQ limiter: `limiter: {max, duration: 60 s / factor}` in two worker processes × concurrency 8; the processor POSTs runAntiVirusScan with got and, on a 429, calls `queue.rateLimit(Retry-After)` and throws `Worker.RateLimitError()` (no attempt spent). 25/min is the only single fixed window that respects 1500/h.',
      'p-limit loop: one process, concurrency 16, each device retried after a 429 as long as Retry-After says (and 5xx up to 6 times).',
      'Caveat: the simulator rounds Retry-After up to whole real seconds, so at ×100 every 429 pauses its receiver ≥ 1 s real = 100 s of API time (the real API would say ≤ 60 s). Elapsed times of contenders that draw 429s are inflated by that; the 429 counts are not.',
      'BullMQ contenders start when their jobs are added (workers already listening); fleetscan starts when `fleetscan scan` is launched (its process start is in "first call after"). The span excludes both.',
    ],
    data: runs,
  };
}
