import { resetRedis, type BenchContext } from '../lib/context.js';
import {
  deviceFile,
  enqueueWithFleetscan,
  enqueueWithRawBullmq,
  type EnqueueRun,
} from '../lib/machinery.js';
import { formatBytes, formatMs, formatRatio, type ScenarioResult } from '../lib/report.js';

/** Enqueue time and Redis bytes per waiting device: fleetscan's scan command against raw addBulk. */
export async function enqueueScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const sizes = ctx.options.smoke ? [2_000] : [100_000, 1_000_000];
  const runs: EnqueueRun[] = [];
  for (const devices of sizes) {
    const file = await deviceFile(ctx, devices);
    // Raw first, then fleetscan, each into an empty Redis so memory deltas are clean.
    await resetRedis(ctx);
    ctx.progress(`enqueue: raw BullMQ addBulk, ${devices} ids`);
    runs.push(await enqueueWithRawBullmq(ctx, file, devices, 'raw', 'scans'));
    await resetRedis(ctx);
    ctx.progress(`enqueue: fleetscan scan --devices, ${devices} ids`);
    const fleetscan = await enqueueWithFleetscan(ctx, file, devices, 'fleetscan');
    runs.push(fleetscan.run);
    // The largest campaign stays queued: the incident scenario runs it instead of enqueueing
    // the same million devices again (the default run must stay under 10 minutes).
    ctx.queuedFleet = {
      prefix: 'fleetscan',
      campaignId: fleetscan.campaignId,
      devices,
      enqueueMs: fleetscan.run.elapsedMs,
    };
  }
  const rows = runs.map((run) => {
    const raw = runs.find((r) => r.devices === run.devices && r.path === 'raw BullMQ addBulk');
    return [
      run.path,
      run.devices,
      formatMs(run.elapsedMs),
      `${Math.round(run.devices / (run.elapsedMs / 1_000)).toLocaleString('en-US')}/s`,
      raw ? `${formatRatio(run.elapsedMs / raw.elapsedMs)}×` : null,
      formatBytes(run.bytesPerDevice),
      raw ? `${formatRatio(run.bytesPerDevice / raw.bytesPerDevice)}×` : null,
      formatBytes(run.cost?.peakRssBytes ?? null),
    ];
  });
  return {
    scenario: 'enqueue',
    elapsedMs: 0,
    tables: [
      {
        title:
          'Enqueue from a file: fleetscan scan against raw BullMQ addBulk (same ids, 1,000 per call)',
        columns: [
          'path',
          'devices',
          'time',
          'rate',
          'time vs raw',
          'Redis per waiting device',
          'bytes vs raw',
          'peak RSS',
        ],
        rows,
      },
    ],
    notes: [
      'Both are child processes timed from start to exit (Node start-up included in both), reading the same plain-text file of 40-hex ids.',
      'fleetscan: `fleetscan scan --devices FILE --json` (campaign record, per-device record in the campaign hash, counts, then the devices pushed into the lane of the budget: one ready-set entry each, no BullMQ job). Raw: the same addBulk chunks with the same job ids and data, nothing else; BullMQ default event stream (up to 10,000 entries) for raw.',
      'Redis per waiting device: INFO memory used_memory after minus before (dedicated redis-server, flushed before each run), divided by the devices. Target ≤ 1 KB (issue 4).',
    ],
    data: runs,
  };
}
